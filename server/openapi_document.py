"""``/schema/openapi.json`` finished with what Litestar's generator cannot see, so a client can be generated from it.

Litestar describes what handlers declare. Added here, each from the code that decides it:

- the sync wire schemas (``server.openapi_wire``: ``changes`` per table, the push envelope) and the
  problem schemas (``server.openapi_problems``) as components;
- the device token: a bearer security scheme on every operation the token middleware guards
  (``PUBLIC_PATHS`` are the ones it does not), each of which may answer 401;
- the errors every operation of a kind shares: 413 where there is a body (the body size cap), 429 on
  the rate-limited paths, 500 and 503 everywhere (``server.errors.handle_unexpected``);
- every error response as ``application/problem+json`` of its status: the ones handlers list with
  ``problems()``, and Litestar's own 400 for parameters and bodies, which it describes in the shape of
  its default handler, not the problem details ``server.errors`` sends.

Litestar builds an ``OpenAPI`` object from ``OpenAPIConfig.to_openapi_schema()`` and writes it out with
``to_schema()``; the config here makes that object, and that object finishes the document as it is
written out, so both ``app.openapi_schema.to_schema()`` and the served JSON are the finished one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import OpenAPI

from server.auth.middleware import PUBLIC_PATHS
from server.openapi_problems import MEDIA_TYPE, description, name, problem_schema, status_schema, statuses
from server.openapi_wire import wire_schemas
from server.ratelimit import LOGIN_PATH, PUSH_PATH

TOKEN = "deviceToken"
SECURITY_SCHEME = {
    "type": "http", "scheme": "bearer",
    "description": "The device token `POST /api/auth/login` answers; valid until the device logs out or is "
                   "revoked.",
}
RATE_LIMITED = {("post", LOGIN_PATH), ("post", PUSH_PATH)}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# Headers some error answers carry (server/errors.py, the protocol negotiation of server/syncapi).
HEADERS: dict[int, dict[str, Any]] = {
    426: {"X-Kader-Protocols": {"description": "The protocol versions this server accepts, comma-separated",
                                "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}},
    503: {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}},
}


def _public(path: str) -> bool:
    return any(re.match(pattern, path) for pattern in PUBLIC_PATHS)


def _litestar_default_error(response: dict[str, Any]) -> bool:
    """Litestar's own description of a 400 (``{status_code, detail, extra}``), which is not what is sent."""
    for media in (response.get("content") or {}).values():
        schema = media.get("schema") or {}
        variants = schema.get("oneOf") or [schema]
        if any("status_code" in (v.get("properties") or {}) for v in variants):
            return True
    return False


def _problem_response(status: int, response: dict[str, Any] | None) -> dict[str, Any]:
    finished = {"description": (response or {}).get("description") or description(status),
                "content": {MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{name(status)}"}}}}
    if status in HEADERS:
        finished["headers"] = HEADERS[status]
    return finished


def finish_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    shared = [500, 503]
    if not _public(path):
        operation["security"] = [{TOKEN: []}]
        shared.append(401)
    if "requestBody" in operation:
        shared.append(413)
    if (method, path) in RATE_LIMITED:
        shared.append(429)
    for status in shared:
        responses.setdefault(str(status), None)
    for key, response in list(responses.items()):
        status = int(key)
        if status >= 400 and (response is None or not response.get("content") or _litestar_default_error(response)):
            responses[key] = _problem_response(status, response)
    operation["responses"] = dict(sorted(responses.items()))


def finish(document: dict[str, Any]) -> dict[str, Any]:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    added = {"Problem": problem_schema(), **{name(s): status_schema(s) for s in statuses()}, **wire_schemas()}
    for key, schema in added.items():
        if key in schemas and not _same(schema, schemas[key]):
            raise ValueError(f"OpenAPI component {key!r} is described twice, differently")
        schemas.setdefault(key, schema)
    components["schemas"] = dict(sorted(schemas.items()))
    components.setdefault("securitySchemes", {})[TOKEN] = SECURITY_SCHEME
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                finish_operation(path, method, item[method])
    return document


def _same(mine: dict[str, Any], theirs: dict[str, Any]) -> bool:
    """Whether Litestar's component of the same name describes the same thing (the enums both use)."""
    def comparable(schema: dict[str, Any]) -> dict[str, Any]:
        left = {k: v for k, v in schema.items() if k not in ("type", "title", "description")}
        if "enum" in left:  # msgspec sorts the values, Litestar keeps their order
            left["enum"] = sorted(left["enum"], key=str)
        return left

    return comparable(mine) == comparable(theirs)


@dataclass
class FinishedOpenAPI(OpenAPI):
    def to_schema(self) -> dict[str, Any]:
        return finish(super().to_schema())


@dataclass
class KaderOpenAPIConfig(OpenAPIConfig):
    """``OpenAPIConfig`` whose document is finished as described above."""

    def to_openapi_schema(self) -> OpenAPI:
        made = super().to_openapi_schema()
        return FinishedOpenAPI(**{f.name: getattr(made, f.name) for f in fields(made)})
