"""Pull: the changes above a cursor, within the caller's scope (docs/sync-protocol.md, "Pull")."""

from __future__ import annotations

import functools
import uuid
from typing import NamedTuple

from sqlalchemy import Select, bindparam, func, literal_column, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.types import utcnow
from server.models import Bidang, Conflict, SyncClient, SyncMeta, Wilayah
from server.scope import within
from sync.engine.tables import PULLED, column_names, wire_record
from sync.engine.timeline import from_meta, read_meta
from sync.engine.writer import Actor
from sync.protocol import Change, PullResponse, Reference
from sync.records import TABLES
from sync.vocabulary import Role

ADMIN_ONLY = sorted(name for name, spec in TABLES.items() if spec.admin_only)


class ResyncRequired(Exception):
    """The cursor cannot be continued: the client must drop its synced copy (never its outbox) and
    pull from the start."""


class DatabaseReplaced(ResyncRequired):
    """The cursor belongs to another database identity: the server was restored from a backup. Besides
    pulling from the start, the client sends again what it had sent (docs/sync-protocol.md, "Restored server")."""


class Cursor(NamedTuple):
    seq: int
    purge_mark: int  # ``purged_through`` when the cursor was made (0: unknown, an older cursor)


def parse_cursor(cursor: str | None, scope: str, database_id: uuid.UUID | None = None) -> Cursor:
    """Cursors read ``<change_seq>@<scope>@<database_id>@<purge mark>``: one made for another scope (the
    account moved desa) cannot be continued, nor one of another database (a restore). Older cursors
    without a database id or purge mark are taken as the current database's, made before any purge."""
    if not cursor:
        return Cursor(0, 0)
    seq, made_for, made_by, mark = (cursor.split("@") + ["", "", ""])[:4]
    # Change numbers are 64-bit: a longer "number" is no cursor this server made.
    if not _seq_like(seq) or made_for != scope or not (mark == "" or _seq_like(mark)):
        raise ResyncRequired("this cursor belongs to another region or is not a cursor")
    if made_by and database_id is not None and made_by != str(database_id):
        raise DatabaseReplaced("the server's database was restored from a backup since this cursor was made")
    return Cursor(int(seq), int(mark or 0))


def _seq_like(text: str) -> bool:
    return text.isascii() and text.isdigit() and int(text) < 2**63


def make_cursor(seq: int, scope: str, database_id: uuid.UUID | None = None, purge_mark: int = 0) -> str:
    return f"{seq}@{scope}@{database_id}@{purge_mark}" if database_id else f"{seq}@{scope}"


async def purged_through(db: AsyncSession) -> int:
    value = await db.scalar(select(SyncMeta.value).where(SyncMeta.key == "purged_through"))
    return int(value) if value else 0


async def pull(db: AsyncSession, actor: Actor, cursor: str | None, limit: int,
               estimate: bool = False) -> PullResponse:
    """One page of changes after ``cursor``. Must be the first work of its transaction: it asks for the
    snapshot that the whole page is read from. ``estimate``: say about how many changes follow."""
    # Step 1: one snapshot for every table of the page, or a change committed between two reads could be
    # skipped by the cursor. SQLite's transaction is one snapshot already.
    if db.bind.dialect.name == "postgresql":
        await db.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    meta = await read_meta(db, "database_id", "ancestors", "purged_through")  # one statement for both
    timeline = from_meta(meta)
    after, made_under = parse_cursor(cursor, actor.scope, timeline.database_id)
    purged = int(meta.get("purged_through") or 0)
    # Only a purge since the cursor was made can have removed deletions it has not seen: a pull that
    # began after the purge never held those records, however low its cursor is while it pages.
    if 0 < after < purged and made_under < purged:
        raise ResyncRequired("tombstones older than this cursor have been purged")
    # Step 2: which changes make the page: the first ``limit`` change numbers above the cursor over every
    # table, in one statement. Each table answers from its (desa_code, change_seq) index, in order,
    # without reading its rows; a pull with nothing new ends here.
    numbers = (await db.execute(_page_numbers(actor.scope, actor.role == Role.admin),
                                {"after": after, "n": limit + 1})).all()
    page, has_more = numbers[:limit], len(numbers) > limit
    # Step 3: the page's rows, from each table that has some: exactly those numbered (after, last], read
    # with Core and put in the answer as they are (structs msgspec writes), without ORM objects or dicts;
    # then in change order.
    by_seq: dict[int, Change] = {}
    if page:
        last = page[-1][1]
        for t in sorted({t for t, _ in page}):
            name, model = _PULLED[t]
            columns = column_names(model)
            table = model.__table__
            rows = await db.execute(select(*(table.c[c] for c in columns))
                                    .where(within(table.c.desa_code, actor.scope),
                                           table.c.change_seq > after, table.c.change_seq <= last))
            for values in rows:
                deleted = values.deleted_at is not None
                by_seq[values.change_seq] = Change(table=name, record_id=values.id, change_seq=values.change_seq,
                                                   version=values.version, deleted=deleted,
                                                   row=None if deleted else wire_record(model, values))
    changes = [by_seq[seq] for _, seq in page]
    next_seq = page[-1][1] if page else after
    reference = await _reference(db, actor) if after == 0 else None
    next_cursor = make_cursor(next_seq, actor.scope, timeline.database_id, max(purged, made_under))
    # Counted only when asked and more follows: a pull that fits one page (most of them) costs nothing more.
    remaining = await _remaining(db, actor, next_seq) if estimate and has_more else None
    return PullResponse(changes=changes, next_cursor=next_cursor, has_more=has_more, reference=reference,
                        database_id=timeline.database_id, remaining=remaining)


async def _remaining(db: AsyncSession, actor: Actor, after: int) -> int:
    """How many rows of the caller's scope changed after ``after``: the changes still to come."""
    total = 0
    for model in PULLED.values():
        total += await db.scalar(select(func.count()).select_from(model)
                                 .where(model.change_seq > after, within(model.desa_code, actor.scope))) or 0
    return total


_PULLED = list(PULLED.items())


def _numbers(model: type, scope: str, admin: bool) -> Select[tuple[int, int]]:
    t = next(i for i, (_, m) in enumerate(_PULLED) if m is model)
    query = select(literal_column(str(t)).label("t"), model.change_seq.label("seq")).where(
        within(model.desa_code, scope), model.change_seq > bindparam("after"))
    if model is Conflict and not admin:
        # A cadre is not offered conflicts she may not settle: those of tables the admin keeps.
        query = query.where(Conflict.table_name.not_in(ADMIN_ONLY))
    return query


@functools.lru_cache(maxsize=4096)
def _page_numbers(scope: str, admin: bool) -> Select[tuple[int, int]]:
    """(table index, change_seq) of the first ``:n`` changes above ``:after`` in ``scope``, oldest first:
    per table at most ``:n`` from its index, then the first ``:n`` of their union."""
    parts = [_numbers(model, scope, admin).order_by(model.change_seq).limit(bindparam("n")).subquery()
             for model in PULLED.values()]
    union = union_all(*(select(part.c.t, part.c.seq) for part in parts)).subquery()
    return select(union.c.t, union.c.seq).order_by(union.c.seq).limit(bindparam("n"))


async def note_pull(db: AsyncSession, actor: Actor, device_id: int | None) -> None:
    """Remember when this client last pulled (the admin's "last sync"). Bookkeeping only: in a savepoint,
    so that a clash with the same client's concurrent push (a serialisation error under REPEATABLE READ)
    costs the timestamp, never the page."""
    assert actor.client_id is not None
    try:
        async with db.begin_nested():
            insert = postgresql.insert if db.bind.dialect.name == "postgresql" else sqlite.insert
            await db.execute(insert(SyncClient).values(
                id=actor.client_id, user_id=actor.user_id, device_id=device_id, created_at=utcnow(),
                app_version="", protocol_version=1, last_seq=0).on_conflict_do_nothing(index_elements=["id"]))
            await db.execute(update(SyncClient).where(SyncClient.id == actor.client_id,
                                                      SyncClient.user_id == actor.user_id)
                             .values(last_pull_at=utcnow()))
    except DBAPIError:
        pass


async def _reference(db: AsyncSession, actor: Actor) -> Reference:
    bidang = (await db.execute(select(Bidang.code, Bidang.nama, Bidang.parent_code).order_by(Bidang.code))).all()
    desa = (await db.execute(select(Wilayah.code, Wilayah.name, Wilayah.kind)
                             .where(Wilayah.level == 4, within(Wilayah.code, actor.scope))
                             .order_by(Wilayah.code))).all()
    return Reference(bidang=[{"code": c, "nama": n, "parent_code": p} for c, n, p in bidang],
                     desa=[{"code": c, "name": n, "kind": k} for c, n, k in desa])
