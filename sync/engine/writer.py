"""The one write path. Every change to a synced row — a cadre's push, an admin's edit, a review, a
conflict resolution — goes through a ``Writer``: it bumps the row's version, records who changed which
fields (old → new) in ``history``, and gives each change a ``change_seq`` so that phones pull it."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.types import utcnow
from server.models import History, SyncedRow
from server.scope import covers
from sync.engine.sequence import allocate
from sync.engine.tables import TABLE_OF, column_names, wire_value
from sync.merge import _same
from sync.records import TABLES, score_total
from sync.vocabulary import Role


@dataclass(frozen=True, slots=True)
class Actor:
    """Who writes, from where: ``via`` is ``sync`` (a phone's push), ``admin`` or ``resolve``."""

    user_id: int
    role: Role
    scope: str
    client_id: uuid.UUID | None = None
    via: str = "sync"

    def covers(self, code: str) -> bool:
        return covers(self.scope, code)


def typed(table: str, wire: dict[str, Any]) -> dict[str, Any]:
    """Wire values (already validated) as the Python values the model columns take."""
    parsed = msgspec.convert(wire, TABLES[table].fields)
    return {k: _column_value(v) for k, v in msgspec.structs.asdict(parsed).items() if v is not msgspec.UNSET}


def _column_value(value: Any) -> Any:
    """Nested structs (e.g. musyawarah.narasumber) go into JSON columns as plain dicts."""
    if isinstance(value, msgspec.Struct) or (isinstance(value, list) and any(isinstance(v, msgspec.Struct)
                                                                             for v in value)):
        return msgspec.to_builtins(value)
    return value


class Writer:
    """Collects the changes of one transaction, then numbers them all at once in ``finish``."""

    def __init__(self, db: AsyncSession, actor: Actor) -> None:
        self.db = db
        self.actor = actor
        self._pending: list[tuple[SyncedRow, History]] = []

    # Savepoints: a mutation rolled back to its savepoint must not keep its pending numbers.
    def mark(self) -> int:
        return len(self._pending)

    def rollback_to(self, mark: int) -> None:
        del self._pending[mark:]

    async def load(self, model: type[SyncedRow], record_id: uuid.UUID) -> SyncedRow | None:
        """The row, locked until this transaction ends, so concurrent writers merge one after the other."""
        return await self.db.scalar(
            select(model).where(model.id == record_id).with_for_update().execution_options(populate_existing=True)
        )

    async def create(self, model: type[SyncedRow], record_id: uuid.UUID, desa_code: str, values: dict[str, Any],
                     *, mutation_id: uuid.UUID | None = None) -> SyncedRow:
        now = utcnow()
        row = model(id=record_id, desa_code=desa_code, version=1, change_seq=0, created_by=self.actor.user_id,
                    updated_by=self.actor.user_id, created_at=now, updated_at=now, deleted_at=None,
                    has_conflict=False, **values)
        _derive(row, values)
        self.db.add(row)
        changes = {k: [None, wire_value(getattr(row, k))] for k in values}
        self._record(row, "create", changes, mutation_id, now)
        return row

    async def update(self, row: SyncedRow, values: dict[str, Any], *, op: str = "update",
                     mutation_id: uuid.UUID | None = None) -> dict[str, list[Any]]:
        """Set the fields that differ; returns ``{field: [old, new]}`` (empty: nothing changed, no version)."""
        now = utcnow()
        changes: dict[str, list[Any]] = {}
        for name, value in {**values, **_derived(row, values)}.items():
            old, new = wire_value(getattr(row, name)), wire_value(value)
            if not _same(old, new):
                setattr(row, name, value)
                changes[name] = [old, new]
        if changes:
            self._bump(row, op, changes, mutation_id, now)
        return changes

    async def delete(self, row: SyncedRow, *, mutation_id: uuid.UUID | None = None) -> None:
        now = utcnow()
        old = wire_value(row.deleted_at)
        row.deleted_at = now
        self._bump(row, "delete", {"deleted_at": [old, wire_value(now)]}, mutation_id, now)

    async def restore(self, row: SyncedRow, *, mutation_id: uuid.UUID | None = None) -> None:
        old = wire_value(row.deleted_at)
        row.deleted_at = None
        self._bump(row, "restore", {"deleted_at": [old, None]}, mutation_id, utcnow())

    def adopt(self, row: SyncedRow) -> None:
        """Record a row built elsewhere (the demo seed) as created: history entry and change number."""
        system = {"id", "desa_code", "version", "change_seq", "created_at", "updated_at", "deleted_at",
                  "created_by", "updated_by", "has_conflict"}
        changes = {k: [None, wire_value(getattr(row, k))] for k in column_names(type(row)) if k not in system}
        self._record(row, "create", changes, None, row.created_at, user_id=row.created_by)

    async def finish(self) -> None:
        """Number this transaction's changes (see ``sequence.allocate``) and write them out."""
        if not self._pending:
            return
        seqs = await allocate(self.db, len(self._pending))
        for (row, entry), seq in zip(self._pending, seqs, strict=True):
            row.change_seq = seq
            entry.change_seq = seq
        self._pending.clear()
        await self.db.flush()

    def _bump(self, row: SyncedRow, op: str, changes: dict[str, list[Any]], mutation_id: uuid.UUID | None,
              now: dt.datetime) -> None:
        row.version += 1
        row.updated_at = now
        row.updated_by = self.actor.user_id
        self._record(row, op, changes, mutation_id, now)

    def _record(self, row: SyncedRow, op: str, changes: dict[str, list[Any]], mutation_id: uuid.UUID | None,
                now: dt.datetime, user_id: int | None = None) -> None:
        entry = History(table_name=TABLE_OF[type(row)], record_id=row.id, desa_code=row.desa_code,
                        version=row.version, change_seq=0, op=op, user_id=user_id or self.actor.user_id,
                        client_id=self.actor.client_id, mutation_id=mutation_id, via=self.actor.via,
                        changes=changes, at=now)
        self.db.add(entry)
        self._pending.append((row, entry))


def _derived(row: SyncedRow, values: dict[str, Any]) -> dict[str, Any]:
    """Fields the server computes from others: the total of the five scores."""
    if not hasattr(row, "skor_total") or not any(k.startswith("skor_") for k in values):
        return {}
    merged = {k: values.get(k, getattr(row, k)) for k in ("skor_dirasakan", "skor_parah", "skor_pendapatan",
                                                           "skor_sering", "skor_potensi")}
    return {"skor_total": score_total(merged)}


def _derive(row: SyncedRow, values: dict[str, Any]) -> None:
    for name, value in _derived(row, values).items():
        setattr(row, name, value)
        values[name] = value
