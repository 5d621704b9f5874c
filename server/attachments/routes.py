"""HTTP: ``PUT/HEAD/GET /api/attachments/{sha256}``. Records may arrive before their photos; a phone
uploads each photo on its own, and asks first (HEAD) so a retried or resumed sync sends nothing twice."""

from __future__ import annotations

from pathlib import Path

import msgspec
from litestar import Response, get, head, put
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.params import FromPath
from litestar.response import File

from server.attachments import store
from server.errors import KaderError
from server.http import Caller
from server.models.enums import Role
from server.openapi_bodies import binary_body, binary_response, described
from server.openapi_problems import problems

# The upload's bytes are read by hand (checked against the hash in the address) and a download's media type
# is read from its first bytes; /schema says what they can be.
PhotoUpload = described(binary_body(sorted(store.IMAGE_TYPES), "The photo's bytes; their SHA-256 is the address."))
PhotoDownload = described(answers={200: binary_response(
    [*sorted(store.IMAGE_TYPES), "application/octet-stream"], "The photo's bytes, as uploaded.")})


class StoredAttachment(msgspec.Struct):
    sha256: str
    size: int


def _check_name(sha256: str) -> None:
    if not store.SHA256.match(sha256):
        raise KaderError("validation_failed", "The name of an attachment is its SHA-256 in lower-case hex.")


def _found(request: Caller, state: State, sha256: str) -> Path:
    _check_name(sha256)
    path = store.find(state.settings.data_dir, request.user.scope, sha256)
    if path is None:
        raise KaderError("not_found", f"Attachment {sha256} not found.")
    return path


@put("/attachments/{sha256:str}", operation_id="putAttachment", status_code=200, tags=["attachments"],
     operation_class=PhotoUpload,
     responses={201: ResponseSpec(StoredAttachment, description="Stored now (200: the server had it already)",
                                  generate_examples=False), **problems(403, 415)},
     summary="Upload a photo named by the SHA-256 of its bytes (a cadre, into her desa)")
async def put_attachment(request: Caller, state: State, sha256: FromPath[str]) -> Response[StoredAttachment]:
    _check_name(sha256)
    if request.user.role != Role.kader:
        raise KaderError("forbidden", "Only a cadre's phone uploads attachments, into her own desa.")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in store.IMAGE_TYPES:
        raise KaderError("unsupported_media_type", f"Send a photo ({', '.join(sorted(store.IMAGE_TYPES))}).")
    body = await request.body()
    if len(body) > store.MAX_BYTES:
        raise KaderError("body_too_large", f"A photo may be at most {store.MAX_BYTES} bytes; resize it first.")
    if store.digest(body) != sha256:
        raise KaderError("invalid_fields", "The bytes do not match the SHA-256 in the address (a broken upload?).")
    created = store.write(state.settings.data_dir, request.user.scope, sha256, body)
    return Response(StoredAttachment(sha256, len(body)), status_code=201 if created else 200)


@head("/attachments/{sha256:str}", operation_id="hasAttachment", tags=["attachments"], responses=problems(404),
      summary="Whether the server holds this attachment (200) or not (404)")
async def has_attachment(request: Caller, state: State, sha256: FromPath[str]) -> None:
    _found(request, state, sha256)


@get("/attachments/{sha256:str}", operation_id="getAttachment", tags=["attachments"],
     operation_class=PhotoDownload, responses=problems(404),
     summary="Download an attachment within the caller's scope")
async def get_attachment(request: Caller, state: State, sha256: FromPath[str]) -> File:
    path = _found(request, state, sha256)
    with path.open("rb") as fh:
        media_type = store.media_type(fh.read(12))
    return File(path, media_type=media_type, content_disposition_type="inline",
                headers={"Cache-Control": "private, max-age=31536000, immutable"})


ROUTES = [put_attachment, has_attachment, get_attachment]
