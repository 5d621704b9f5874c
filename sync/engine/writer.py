"""The one write path. Every change to a synced row — a cadre's push, an admin's edit, a review, a
conflict resolution — goes through a ``Writer``: it bumps the row's version, records who changed which
fields (old → new) in ``history``, and gives each change a ``change_seq`` so that phones pull it."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.bulk import insert_rows
from server.db.types import utcnow
from server.models import Base, History, SyncedRow
from server.scope import covers
from sync.engine.sequence import allocate
from sync.engine.tables import TABLE_OF, PendingRow, column_names, model_of, wire_value
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
    ``deferred`` (a push batch: no savepoints): created rows are ``PendingRow``s, not ORM objects, and
    ``finish`` inserts them with Core, one multi-row INSERT per table, parents first, already numbered;
    otherwise each is added to the session at once, so that a savepoint around one mutation flushes, and
    can reject, that mutation alone.
    """

    def __init__(self, db: AsyncSession, actor: Actor, *, deferred: bool = False) -> None:
        self.db = db
        self.actor = actor
        self.deferred = deferred
        self._pending: list[tuple[SyncedRow | PendingRow, dict[str, Any]]] = []
        self._created: list[PendingRow] = []
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
        system = {"id": record_id, "desa_code": desa_code, "version": 1, "change_seq": 0,
                  "created_by": self.actor.user_id, "updated_by": self.actor.user_id, "created_at": now,
                  "updated_at": now, "deleted_at": None, "has_conflict": False}
        if self.deferred:
            row: Any = _pending_row(model, {**system, **values})
            _derive(row, values)
            self._created.append(row)
        else:
            row = model(**system, **values)
            _derive(row, values)
            _fill_defaults(row)
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
        """Write this transaction's rows, number its changes (see ``sequence.allocate``) and write their
        history. The counter is locked as late as it can be, so that other writers wait for it only while
        this transaction's last statements run and it commits."""
        if not self._pending:
            return
        if self.deferred:
            await self._finish_batch()
            return
        await self.db.flush()
        entries = self._number(await allocate(self.db, len(self._pending)))
        await self.db.flush()
        await insert_rows(self.db, History.__table__, entries)

    async def _finish_batch(self) -> None:
        """A push batch: every check is done and nothing is written yet, so the numbers are taken first and
        each row goes in once, already numbered: new rows with one INSERT per table (parents first: the
        tables know no ORM relationships), then the loaded rows it changed with the session's UPDATEs
        (after the new rows they may point at), then the history."""
        with self.db.no_autoflush:
            entries = self._number(await allocate(self.db, len(self._pending)))
            created, self._created = self._created, []
            by_table: dict[type[SyncedRow], list[dict[str, Any]]] = {}
            for row in created:
                by_table.setdefault(row.model, []).append(vars(row))
            for model in sorted(by_table, key=_TABLE_ORDER.__getitem__):
                await insert_rows(self.db, model.__table__, by_table[model])
        await self.db.flush()
        await insert_rows(self.db, History.__table__, entries)

    def _number(self, seqs: range) -> list[dict[str, Any]]:
        """Give each pending change its number; returns their history entries."""
        for (row, entry), seq in zip(self._pending, seqs, strict=True):
            row.change_seq = seq
            entry["change_seq"] = seq
        entries = [entry for _, entry in self._pending]
        self._pending.clear()
        return entries

    def _bump(self, row: SyncedRow, op: str, changes: dict[str, list[Any]], mutation_id: uuid.UUID | None,
              now: dt.datetime) -> None:
        row.version += 1
        row.updated_at = now
        row.updated_by = self.actor.user_id
        self._record(row, op, changes, mutation_id, now)

    def _record(self, row: SyncedRow, op: str, changes: dict[str, list[Any]], mutation_id: uuid.UUID | None,
                now: dt.datetime, user_id: int | None = None) -> None:
        entry = {"table_name": TABLE_OF[model_of(row)], "record_id": row.id, "desa_code": row.desa_code,
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


_SCORES = frozenset({*SCORE_FIELDS, "skor_total"})


def _derived(row: SyncedRow | PendingRow, values: dict[str, Any]) -> dict[str, Any]:
    """Fields the server computes from others: the total of the five scores."""
    if _SCORES.isdisjoint(values) or not hasattr(row, "skor_total"):
        return {}
    merged = {k: values[k] if k in values else getattr(row, k) for k in SCORE_FIELDS}
    return {"skor_total": score_total(merged)}


def _derive(row: SyncedRow | PendingRow, values: dict[str, Any]) -> None:
    for name, value in _derived(row, values).items():
        setattr(row, name, value)
        values[name] = value


# Parents before children, as the foreign keys require.
_TABLE_ORDER = {model: Base.metadata.sorted_tables.index(model.__table__) for model in TABLE_OF}


@functools.cache
def _pending_class(model: type[SyncedRow]) -> type[PendingRow]:
    return type(f"Pending{model.__name__}", (PendingRow,), {"model": model})


@functools.cache
def _column_defaults(model: type[SyncedRow]) -> tuple[dict[str, Any], tuple[tuple[str, Any], ...]]:
    """The defaults the INSERT would apply: (plain values, (column, callable) pairs)."""
    plain, made = {}, []
    for attr in inspect(model).column_attrs:
        default = attr.columns[0].default
        if default is None:
            plain[attr.key] = None
        elif default.is_scalar:
            plain[attr.key] = default.arg
        else:
            made.append((attr.key, default.arg))
    return plain, tuple(made)


def _pending_row(model: type[SyncedRow], values: dict[str, Any]) -> PendingRow:
    """A new row with every column: the given values, the column defaults for the rest (a field the
    client set, even to None, keeps its value)."""
    plain, made = _column_defaults(model)
    row = _pending_class(model)()
    row.__dict__.update(plain)
    for key, make in made:
        if key not in values:
            row.__dict__[key] = make(None)
    row.__dict__.update(values)
    return row
