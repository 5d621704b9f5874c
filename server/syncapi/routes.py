"""HTTP: ``/api/sync/push``, ``/api/sync/pull``, conflict resolution and record history."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, QueryParameter

from server.http import DB, Caller
from server.openapi_bodies import component, described, json_body
from server.openapi_problems import problems
from server.syncapi import service
from server.syncapi.body import read_body
from sync.protocol import MAX_PULL_LIMIT, PROTOCOL_VERSION, PullResponse, PushResponse, ResolveRequest

# push reads its body itself (gzip allowed); this only tells /schema what that body is.
PushOperation = described(json_body(component("PushRequest"), "A batch of mutations from one client; may be "
                                    "sent with Content-Encoding: gzip."))

Cursor = Annotated[str | None, QueryParameter(
    description="The `next_cursor` of the page before; absent to pull from the beginning. Opaque.")]
Limit = Annotated[int, QueryParameter(description="The most changes in one page.", ge=1, le=MAX_PULL_LIMIT)]
ProtocolVersion = Annotated[int, QueryParameter(
    description="The sync protocol the client speaks; one this server does not accept is answered 426 "
                "`update_required`.")]
ClientId = Annotated[uuid.UUID | None, QueryParameter(
    description="The client's id, as its pushes carry it: the server notes when this client last pulled (the "
                "office's last sync of a device). Optional.")]
Estimate = Annotated[bool, QueryParameter(
    description="Ask for `remaining`, about how many changes follow this page (answered only when `has_more`): "
                "a phone asks on the first page of a sync to show its progress. Optional.")]


class SyncController(Controller):
    path = "/sync"
    tags = ["sync"]

    @post("/push", operation_id="push", status_code=200, operation_class=PushOperation,
          responses=problems(400, 403, 415, 426),
          summary="Apply a batch of mutations from one client (JSON body, gzip allowed)")
    async def push(self, request: Caller, db: DB, state: State) -> PushResponse:
        return await service.push(db, request.user, await read_body(request, state.settings.max_body_bytes))

    @get("/pull", operation_id="pull", summary="Changes after a cursor, within the caller's scope",
         responses=problems(410, 426))
    async def pull(self, request: Caller, db: DB, cursor: Cursor = None, limit: Limit = 200,
                   protocol_version: ProtocolVersion = PROTOCOL_VERSION,
                   client_id: ClientId = None, estimate: Estimate = False) -> PullResponse:
        return await service.pull(db, request.user, cursor, limit, protocol_version, client_id, estimate)

    @post("/conflicts/{conflict_id:uuid}/resolve", operation_id="resolveConflict", status_code=200,
          summary="Settle a conflict field by field (mine, theirs or an edited value)",
          responses=problems(403, 404, 409))
    async def resolve(self, request: Caller, db: DB, conflict_id: FromPath[uuid.UUID],
                      data: JSONBody[ResolveRequest]) -> dict[str, Any]:
        return await service.resolve(db, request.user, conflict_id, data)

    @get("/records/{table:str}/{record_id:uuid}/history", operation_id="recordHistory",
         summary="Every accepted change of one record: who, when, which fields, old and new",
         responses=problems(404))
    async def history(self, request: Caller, db: DB, table: FromPath[str],
                      record_id: FromPath[uuid.UUID]) -> list[service.HistoryEntry]:
        return await service.history(db, request.user, table, record_id)
