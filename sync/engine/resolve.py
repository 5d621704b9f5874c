"""Settling a conflict: a person picks, per field, her value, the server's, or a new one
(docs/sync-protocol.md, "Resolving a conflict"). The outcome is a new version, audited like any change,
and obeys the write rules of a push (sync/engine/push.py): the table is one the caller's role writes,
the values fit the table, references stay inside the desa."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.types import utcnow
from server.models import Conflict
from sync.engine.push import Rejected, check_references, checked_changes
from sync.engine.tables import MODELS, row_to_wire
from sync.engine.writer import Actor, Writer, typed
from sync.protocol import ResolveRequest


class ResolveError(Exception):
    def __init__(self, code: str, reason: str) -> None:
        self.code, self.reason = code, reason
        super().__init__(reason)


async def resolve(db: AsyncSession, actor: Actor, conflict_id: uuid.UUID, request: ResolveRequest) -> dict[str, Any]:
    writer = Writer(db, actor)
    conflict = await writer.load(Conflict, conflict_id)
    if conflict is None or not actor.covers(conflict.desa_code):
        raise ResolveError("not_found", f"conflict {conflict_id} not found")
    try:
        checked_changes(actor, conflict.table_name, {})  # a table this account may write at all
        if conflict.resolved_at is not None:
            raise ResolveError("already_resolved", f"conflict {conflict_id} was already resolved")
        row = await writer.load(MODELS[conflict.table_name], conflict.record_id)
        assert row is not None  # records are never hard-deleted while a conflict points at them
        chosen = _chosen_values(writer.actor, conflict, request)
        await check_references(db, conflict.table_name, row.desa_code, chosen)
    except Rejected as r:
        raise ResolveError(r.code, r.reason) from None
    if conflict.kind == "edit_deleted" and request.action == "keep":
        await writer.restore(row, mutation_id=conflict.mutation_id)
    if conflict.kind == "delete_edited" and request.action == "delete":
        await writer.delete(row, mutation_id=conflict.mutation_id)
    await writer.update(conflict, {"resolved_at": utcnow(), "resolved_by": actor.user_id,
                                   "resolution": {"fields": chosen, "action": request.action}}, op="resolve")
    still_open = await db.scalar(
        select(func.count()).select_from(Conflict)
        .where(Conflict.record_id == row.id, Conflict.resolved_at.is_(None), Conflict.id != conflict.id)
    )
    await writer.update(row, {**typed(conflict.table_name, chosen), "has_conflict": bool(still_open)},
                        op="resolve", mutation_id=conflict.mutation_id)
    await writer.finish()
    return {"record": row_to_wire(row), "conflict": row_to_wire(conflict)}


def _chosen_values(actor: Actor, conflict: Conflict, request: ResolveRequest) -> dict[str, Any]:
    """The values to write, validated like a push; ``theirs`` writes nothing (the server's value stays)."""
    if conflict.kind == "field":
        missing = sorted(set(conflict.field_values) - request.fields.keys())
        if missing:
            raise ResolveError("missing_fields", f"choose mine, theirs or edited for: {', '.join(missing)}")
    elif request.action is None:
        raise ResolveError("missing_fields", "action is required: keep or delete")
    unknown = sorted(request.fields.keys() - conflict.field_values.keys())
    if unknown:
        raise ResolveError("invalid_fields", f"not in this conflict: {', '.join(unknown)}")
    if conflict.kind == "delete_edited":
        return {}
    if conflict.kind == "edit_deleted" and request.action == "delete":
        return {}
    values: dict[str, Any] = {}
    for name, held in conflict.field_values.items():
        choice = request.fields.get(name)
        pick = choice.pick if choice else "mine"  # restoring an edited-deleted record keeps her edit by default
        if pick == "mine":
            values[name] = held["mine"]
        elif pick == "edited":
            values[name] = choice.value if choice else None
    return checked_changes(actor, conflict.table_name, values)
