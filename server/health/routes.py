"""Health endpoints for the proxy and the process supervisor (public, no token):

- ``GET /api/health/live``: the process answers (no database call). Restart it if this fails.
- ``GET /api/health/ready`` (and ``/api/health``, kept for older checks): the database is reachable and
  migrated to this code's schema, and the shared rate-limit store answers when one is configured.
  Send it traffic only while this is 200; 503 names what is not ready.
"""

from __future__ import annotations

import msgspec
from litestar import Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec

from server.db.migrate import current_revision, head_revision
from server.ratelimit import FailOpenRedisStore


class Live(msgspec.Struct):
    status: str


class Health(msgspec.Struct):
    status: str
    database: str
    schema_version: str | None
    schema_head: str
    rate_limit_store: str  # "shared" (Redis answers), "unreachable", or "per-process" (none configured)


NOT_READY = ResponseSpec(Health, description="Not ready: `database`, `schema_version` or `rate_limit_store` "
                        "says what is not", generate_examples=False)


@get("/health/live", operation_id="health_live", summary="The process is up", tags=["health"])
async def live() -> Live:
    return Live("ok")


@get("/health/ready", operation_id="health_ready", summary="Ready for traffic: database reachable, schema "
     "current, rate-limit store up", tags=["health"], responses={503: NOT_READY})
async def ready(state: State) -> Response[Health]:
    return await _readiness(state)


@get("/health", operation_id="health", summary="Same as /health/ready", tags=["health"],
     responses={503: NOT_READY})
async def health(state: State) -> Response[Health]:
    return await _readiness(state)


async def _readiness(state: State) -> Response[Health]:
    try:
        version = await current_revision(state.database.engine)
        database = "ok" if version is not None else "unmigrated"
    except Exception:  # the point of this endpoint is to report, not to raise
        version, database = None, "unreachable"
    head = head_revision()
    store = await _rate_limit_store(state)
    healthy = database == "ok" and version == head and store != "unreachable"
    return Response(Health("ok" if healthy else "degraded", database, version, head, store),
                    status_code=200 if healthy else 503)


async def _rate_limit_store(state: State) -> str:
    store = state.rate_limit_store
    if not isinstance(store, FailOpenRedisStore):
        return "per-process"
    return "shared" if await store.ping() else "unreachable"
