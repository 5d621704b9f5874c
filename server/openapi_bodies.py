"""OpenAPI descriptions of request bodies that handlers read themselves.

Litestar documents a body only from a handler's ``data`` parameter. Push reads its raw bytes (to
honour ``Content-Encoding: gzip`` and cap the decompressed size) and an attachment upload takes a
photo's bytes, so neither has one; without these descriptions ``/schema`` would claim they take no
body at all. Litestar's way to add to a generated operation is the handler's ``operation_class``
(an ``Operation`` subclass that fills in what the generator cannot see); what the handler accepts
does not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """msgspec's schema with every ``#/$defs/…`` reference replaced by its definition: inside an
    OpenAPI document those references would point at the document's root, not at ``$defs``."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        # The discriminator's mapping names $defs too; the tag's "enum" in each variant says the same.
        return {k: _inline(v, defs) for k, v in node.items() if k not in ("$defs", "discriminator")}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def json_schema(struct: type[msgspec.Struct]) -> dict[str, Any]:
    """The JSON Schema of a msgspec struct, self-contained (the structs read by hand are not recursive)."""
    schema = msgspec.json.schema(struct)
    return _inline(schema, schema.get("$defs", {}))


def json_body(struct: type[msgspec.Struct], description: str) -> type[Operation]:
    """An operation class whose request body is ``struct`` as JSON."""
    body = RequestBody(required=True, description=description,
                       content={"application/json": OpenAPIMediaType(schema=json_schema(struct))})  # type: ignore[arg-type]

    @dataclass
    class JSONBodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = body

    return JSONBodyOperation


def binary_body(media_types: list[str], description: str) -> type[Operation]:
    """An operation class whose request body is raw bytes of one of ``media_types``."""
    schema: dict[str, Any] = {"type": "string", "format": "binary"}
    body = RequestBody(required=True, description=description,
                       content={m: OpenAPIMediaType(schema=schema) for m in media_types})  # type: ignore[arg-type]

    @dataclass
    class BinaryBodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = body

    return BinaryBodyOperation
