"""OpenAPI descriptions of bodies that handlers read or write themselves.

Litestar documents a body only from a handler's ``data`` parameter and a response only from its return
type. Push reads its raw bytes (to honour ``Content-Encoding: gzip`` and cap the decompressed size), an
attachment upload takes a photo's bytes, and a download or an export answers bytes whose media type is
known only at run time; without these descriptions ``/schema`` would claim push takes no body and an
export is JSON. Litestar's way to add to a generated operation is the handler's ``operation_class``
(an ``Operation`` subclass that fills in what the generator cannot see); what the handler does does not
change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, RequestBody

BINARY: dict[str, Any] = {"type": "string", "format": "binary"}


def component(name: str) -> dict[str, Any]:
    """A reference to a component schema (``server.openapi_wire`` adds the wire format's)."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: dict[str, Any], description: str) -> RequestBody:
    """A request body of JSON fitting ``schema``."""
    return RequestBody(required=True, description=description,
                       content={"application/json": OpenAPIMediaType(schema=schema)})  # type: ignore[arg-type]


def binary_body(media_types: list[str], description: str) -> RequestBody:
    """A request body of raw bytes of one of ``media_types``."""
    return RequestBody(required=True, description=description,
                       content={m: OpenAPIMediaType(schema=BINARY) for m in media_types})  # type: ignore[arg-type]


def binary_response(media_types: list[str], description: str) -> OpenAPIResponse:
    """An answer of raw bytes of one of ``media_types``."""
    return OpenAPIResponse(description=description,
                           content={m: OpenAPIMediaType(schema=BINARY) for m in media_types})  # type: ignore[arg-type]


def described(body: RequestBody | None = None, answers: dict[int, OpenAPIResponse] | None = None) -> type[Operation]:
    """An operation class with this request body and these answers (by status) in place of Litestar's."""

    @dataclass
    class DescribedOperation(Operation):
        def __post_init__(self) -> None:
            if body is not None:
                self.request_body = body
            if answers:
                self.responses = {**(self.responses or {}), **{str(s): r for s, r in answers.items()}}

    return DescribedOperation
