"""The one write path. Every change to a synced row — a cadre's push, an admin's edit, a review, a
conflict resolution — goes through a ``Writer``: it bumps the row's version, records who changed which
fields (old → new) in ``history``, and gives each change a ``change_seq`` so that phones pull it."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.types import utcnow
from server.models import Base, History, SyncedRow
from server.scope import covers
from sync.engine.sequence import allocate
from sync.engine.tables import TABLE_OF, column_names, wire_value
from sync.merge import same
from sync.records import SCORE_FIELDS, column_values, score_total
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


# Writers that are not phones (an office user, an admin's device on the API, the demo seed) have a client
# id too, made from who they are: the engine's rule that a client's own earlier changes are not someone
# else's then holds at every door alike, and history says which door each change came through.
_DOORS = uuid.UUID("5b0e3f7a-2c44-4d7e-9a59-6f3c1d8e2b10")


def door_client(door: str, key: int | str) -> uuid.UUID:
    """The stable client id of a door (``office``, ``device``, ``demo``) for one user or device."""
    return uuid.uuid5(_DOORS, f"{door}/{key}")


def typed(table: str, wire: dict[str, Any]) -> dict[str, Any]:
    """Wire values (already validated) as the Python values the model columns take."""
    return {k: _column_value(v) for k, v in column_values(table, wire).items()}


def _column_value(value: Any) -> Any:
    """Nested structs (e.g. musyawarah.narasumber) go into JSON columns as plain dicts."""
    if isinstance(value, msgspec.Struct) or (isinstance(value, list) and any(isinstance(v, msgspec.Struct)
                                                                             for v in value)):
        return msgspec.to_builtins(value)
    return value


class Writer:
    """Collects the changes of one transaction, then numbers them all at once in ``finish``.

    History entries are written in ``finish`` (one statement for all), so read history only after it.
    ``deferred``: created rows also wait for ``finish`` and go in table by table, parents first (a push
    batch: no savepoints, one INSERT per table); otherwise each is added to the session at once, so
    that a savepoint around one mutation flushes, and can reject, that mutation alone.
    """

    def __init__(self, db: AsyncSession, actor: Actor, *, deferred: bool = False) -> None:
        self.db = db
        self.actor = actor
        self.deferred = deferred
        self._pending: list[tuple[SyncedRow, dict[str, Any]]] = []
        self._created: list[SyncedRow] = []
        # Rows read up front by ``preload`` (None: known not to exist), and the rows created since.
        self._rows: dict[tuple[type[SyncedRow], uuid.UUID], SyncedRow | None] = {}

    # Savepoints: a mutation rolled back to its savepoint must not keep its pending numbers.
    def mark(self) -> int:
        return len(self._pending)

    def rollback_to(self, mark: int) -> None:
        del self._pending[mark:]

    async def load(self, model: type[SyncedRow], record_id: uuid.UUID) -> SyncedRow | None:
        """The row, locked until this transaction ends, so concurrent writers merge one after the other."""
        known, row = self.cached(model, record_id)
        if known:
            return row
        return await self.db.scalar(
            select(model).where(model.id == record_id).with_for_update().execution_options(populate_existing=True)
        )

    async def preload(self, model: type[SyncedRow], ids: list[uuid.UUID]) -> None:
        """Lock and read many rows in one statement (in id order, the order every batch locks in); ``load``
        answers them, and the ones created later, without asking the database again."""
        rows = await self.db.scalars(
            select(model).where(model.id.in_(ids)).order_by(model.id).with_for_update()
            .execution_options(populate_existing=True)
        )
        found = {row.id: row for row in rows}
        self._rows.update({(model, i): found.get(i) for i in ids})

    def cached(self, model: type[SyncedRow], record_id: uuid.UUID) -> tuple[bool, SyncedRow | None]:
        """(whether this writer knows the row, the row or None)."""
        key = (model, record_id)
        return key in self._rows, self._rows.get(key)

    async def create(self, model: type[SyncedRow], record_id: uuid.UUID, desa_code: str, values: dict[str, Any],
                     *, mutation_id: uuid.UUID | None = None) -> SyncedRow:
        now = utcnow()
        row = model(id=record_id, desa_code=desa_code, version=1, change_seq=0, created_by=self.actor.user_id,
                    updated_by=self.actor.user_id, created_at=now, updated_at=now, deleted_at=None,
                    has_conflict=False, **values)
        _derive(row, values)
        _fill_defaults(row)
        if self.deferred:
            self._created.append(row)
        else:
            self.db.add(row)
        if (model, record_id) in self._rows:
            self._rows[(model, record_id)] = row
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
            if not same(old, new):
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
        """Write this transaction's rows, then number its changes (see ``sequence.allocate``) and write
        their history. The counter is locked last, so that other writers wait for it only while the
        numbers are set and the transaction commits."""
        if not self._pending:
            return
        # The session knows no relationships between these tables, so it would not insert a
        # musyawarah before its kehadiran: created rows go in table by table, parents first.
        created, self._created = self._created, []
        order = {table.name: i for i, table in enumerate(Base.metadata.sorted_tables)}
        for name in sorted({TABLE_OF[type(r)] for r in created}, key=order.__getitem__):
            self.db.add_all([r for r in created if TABLE_OF[type(r)] == name])
            await self.db.flush()
        await self.db.flush()
        seqs = await allocate(self.db, len(self._pending))
        for (row, entry), seq in zip(self._pending, seqs, strict=True):
            row.change_seq = seq
            entry["change_seq"] = seq
        entries = [entry for _, entry in self._pending]
        self._pending.clear()
        await self.db.flush()
        await self.db.execute(insert(History), entries)

    def _bump(self, row: SyncedRow, op: str, changes: dict[str, list[Any]], mutation_id: uuid.UUID | None,
              now: dt.datetime) -> None:
        row.version += 1
        row.updated_at = now
        row.updated_by = self.actor.user_id
        self._record(row, op, changes, mutation_id, now)

    def _record(self, row: SyncedRow, op: str, changes: dict[str, list[Any]], mutation_id: uuid.UUID | None,
                now: dt.datetime, user_id: int | None = None) -> None:
        entry = {"table_name": TABLE_OF[type(row)], "record_id": row.id, "desa_code": row.desa_code,
                 "version": row.version, "change_seq": 0, "op": op, "user_id": user_id or self.actor.user_id,
                 "client_id": self.actor.client_id, "mutation_id": mutation_id, "via": self.actor.via,
                 "changes": changes, "at": now}
        self._pending.append((row, entry))


def _fill_defaults(row: SyncedRow) -> None:
    """The column defaults the INSERT would apply, applied now: a row created in a push batch is read
    (merged, compared, flagged) by later mutations of the batch before it is inserted. A field the
    client set, even to None, keeps its value."""
    for attr in inspect(type(row)).column_attrs:
        default = attr.columns[0].default
        if default is not None and attr.key not in row.__dict__:
            setattr(row, attr.key, default.arg if default.is_scalar else default.arg(None))


def _derived(row: SyncedRow, values: dict[str, Any]) -> dict[str, Any]:
    """Fields the server computes from others: the total of the five scores."""
    if not hasattr(row, "skor_total") or not any(k.startswith("skor_") for k in values):
        return {}
    merged = {k: values.get(k, getattr(row, k)) for k in SCORE_FIELDS}
    return {"skor_total": score_total(merged)}


def _derive(row: SyncedRow, values: dict[str, Any]) -> None:
    for name, value in _derived(row, values).items():
        setattr(row, name, value)
        values[name] = value
