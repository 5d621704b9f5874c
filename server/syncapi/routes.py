"""HTTP: ``/api/sync/push``, ``/api/sync/pull``, conflict resolution and record history."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody

from server.http import DB, Caller
from server.openapi_bodies import json_body
from server.syncapi import service
from server.syncapi.body import read_body
from sync.protocol import PROTOCOL_VERSION, PullResponse, PushRequest, PushResponse, ResolveRequest

# push reads its body itself (gzip allowed); this only tells /schema what that body is.
PushOperation = json_body(PushRequest, "A batch of mutations from one client; may be sent with "
                          "Content-Encoding: gzip.")


class SyncController(Controller):
    path = "/sync"
    tags = ["sync"]

    @post("/push", operation_id="push", status_code=200, operation_class=PushOperation,
          summary="Apply a batch of mutations from one client (JSON body, gzip allowed)")
    async def push(self, request: Caller, db: DB, state: State) -> PushResponse:
        return await service.push(db, request.user, await read_body(request, state.settings.max_body_bytes))

    @get("/pull", operation_id="pull", summary="Changes after a cursor, within the caller's scope")
    async def pull(self, request: Caller, db: DB, cursor: FromQuery[str | None] = None, limit: FromQuery[int] = 200,
                   protocol_version: FromQuery[int] = PROTOCOL_VERSION,
                   client_id: FromQuery[uuid.UUID | None] = None, estimate: FromQuery[bool] = False) -> PullResponse:
        return await service.pull(db, request.user, cursor, limit, protocol_version, client_id, estimate)

    @post("/conflicts/{conflict_id:uuid}/resolve", operation_id="resolveConflict", status_code=200,
          summary="Settle a conflict field by field (mine, theirs or an edited value)")
    async def resolve(self, request: Caller, db: DB, conflict_id: FromPath[uuid.UUID],
                      data: JSONBody[ResolveRequest]) -> dict[str, Any]:
        return await service.resolve(db, request.user, conflict_id, data)

    @get("/records/{table:str}/{record_id:uuid}/history", operation_id="recordHistory",
         summary="Every accepted change of one record: who, when, which fields, old and new")
    async def history(self, request: Caller, db: DB, table: FromPath[str],
                      record_id: FromPath[uuid.UUID]) -> list[service.HistoryEntry]:
        return await service.history(db, request.user, table, record_id)
