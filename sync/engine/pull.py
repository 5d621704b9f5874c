"""Pull: the changes above a cursor, within the caller's scope (docs/sync-protocol.md, "Pull")."""

from __future__ import annotations

import heapq
import uuid
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.types import utcnow
from server.models import Bidang, SyncClient, SyncMeta, Wilayah
from server.scope import within
from sync.engine.tables import PULLED, TABLE_OF, row_to_wire
from sync.engine.timeline import current as current_timeline
from sync.engine.writer import Actor
from sync.protocol import Change, PullResponse, Reference


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
    if not seq.isdigit() or made_for != scope or not (mark == "" or mark.isdigit()):
        raise ResyncRequired("this cursor belongs to another region or is not a cursor")
    if made_by and database_id is not None and made_by != str(database_id):
        raise DatabaseReplaced("the server's database was restored from a backup since this cursor was made")
    return Cursor(int(seq), int(mark or 0))


def make_cursor(seq: int, scope: str, database_id: uuid.UUID | None = None, purge_mark: int = 0) -> str:
    return f"{seq}@{scope}@{database_id}@{purge_mark}" if database_id else f"{seq}@{scope}"


async def purged_through(db: AsyncSession) -> int:
    value = await db.scalar(select(SyncMeta.value).where(SyncMeta.key == "purged_through"))
    return int(value) if value else 0


async def pull(db: AsyncSession, actor: Actor, cursor: str | None, limit: int) -> PullResponse:
    """One page of changes after ``cursor``. Must be the first work of its transaction: it asks for the
    snapshot that the whole page is read from."""
    # Step 1: one snapshot for every table of the page, or a change committed between two reads could be
    # skipped by the cursor. SQLite's transaction is one snapshot already.
    if db.bind.dialect.name == "postgresql":
        await db.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    timeline = await current_timeline(db)
    after, made_under = parse_cursor(cursor, actor.scope, timeline.database_id)
    purged = await purged_through(db)
    # Only a purge since the cursor was made can have removed deletions it has not seen: a pull that
    # began after the purge never held those records, however low its cursor is while it pages.
    if 0 < after < purged and made_under < purged:
        raise ResyncRequired("tombstones older than this cursor have been purged")
    # Step 2: from each table, the rows changed after the cursor, oldest change first.
    per_table = []
    for model in PULLED.values():
        rows = await db.scalars(
            select(model).where(model.change_seq > after, within(model.desa_code, actor.scope))
            .order_by(model.change_seq).limit(limit + 1)
        )
        per_table.append(list(rows))
    # Step 3: merge into one page of at most ``limit`` changes; the cursor moves to its last one.
    merged = list(heapq.merge(*per_table, key=lambda r: r.change_seq))
    page, has_more = merged[:limit], len(merged) > limit
    changes = [
        Change(table=TABLE_OF[type(r)], record_id=r.id, change_seq=r.change_seq, version=r.version,
               deleted=r.deleted_at is not None, row=None if r.deleted_at is not None else row_to_wire(r))
        for r in page
    ]
    next_seq = page[-1].change_seq if page else after
    reference = await _reference(db, actor) if after == 0 else None
    next_cursor = make_cursor(next_seq, actor.scope, timeline.database_id, max(purged, made_under))
    return PullResponse(changes=changes, next_cursor=next_cursor,
                        has_more=has_more, reference=reference, database_id=timeline.database_id)


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
