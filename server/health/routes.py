"""``GET /api/health``: is the database reachable, and at which schema version."""

from __future__ import annotations

import msgspec
from litestar import Response, get
from litestar.datastructures import State

from server.db.migrate import current_revision, head_revision


class Health(msgspec.Struct):
    status: str
    database: str
    schema_version: str | None
    schema_head: str


@get("/health", operation_id="health", summary="Database reachable and schema version", tags=["health"])
async def health(state: State) -> Response[Health]:
    try:
        version = await current_revision(state.database.engine)
        database = "ok" if version is not None else "unmigrated"
    except Exception:  # the point of this endpoint is to report, not to raise
        version, database = None, "unreachable"
    head = head_revision()
    healthy = database == "ok" and version == head
    return Response(Health("ok" if healthy else "degraded", database, version, head),
                    status_code=200 if healthy else 503)
