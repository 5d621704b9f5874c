"""Reading a push body: gzip honoured, size capped before and after decompression."""

from __future__ import annotations

import zlib

from litestar import Request

from server.errors import KaderError


async def read_body(request: Request, limit: int) -> bytes:
    body = await request.body()  # Litestar refuses bodies above request_max_body_size with 413
    encoding = request.headers.get("content-encoding", "identity").lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise KaderError("unsupported_media_type", f"Content-Encoding {encoding!r} is not supported; use gzip.")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as e:
        raise KaderError("bad_request", f"The gzip body is corrupt: {e}.") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise KaderError("body_too_large", f"The body is larger than {limit} bytes once decompressed.")
    # zlib checks the CRC only at the end of the stream: a cut-off body would otherwise pass unchecked.
    if not inflater.eof:
        raise KaderError("bad_request", "The gzip body is truncated (its end and checksum are missing).")
    if inflater.unused_data:
        raise KaderError("bad_request", "The gzip body has bytes after its end.")
    return data
