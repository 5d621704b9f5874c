"""Tombstone retention: deleted rows are kept long enough for the longest offline spell, then purged.

A phone whose cursor is older than the purge might have missed a delete that is gone now; the pull
answers it ``resync_required`` (``sync_meta.purged_through`` is the highest change number purged).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.types import utcnow
from server.db.upsert import upsert
from server.models import Base, ProcessedMutation, SyncMeta
from sync.engine.pull import purged_through
from sync.engine.tables import MODELS

# Children before the rows they point at, so a parent is purged in the same run as its children.
PURGE_ORDER = ["komentar", "kehadiran", "usulan", "pengkajian", "musyawarah", "kader", "dusun"]


async def purge(db: AsyncSession, older_than: dt.timedelta) -> dict[str, int]:
    """Delete tombstones (and answers to mutations) older than ``older_than``; returns counts per table.

    A tombstone still referenced by another row (even a deleted one that is not yet due) stays.
    """
    cutoff = utcnow() - older_than
    counts: dict[str, int] = {}
    highest = await purged_through(db)
    for name in PURGE_ORDER:
        model = MODELS[name]
        due = select(model.id, model.change_seq).where(model.deleted_at.is_not(None), model.deleted_at < cutoff)
        for ref_column in _references_to(model.__table__):
            due = due.where(model.id.not_in(select(ref_column).where(ref_column.is_not(None))))
        rows = (await db.execute(due)).all()
        if rows:
            await db.execute(delete(model).where(model.id.in_([r.id for r in rows])))
            highest = max(highest, *(r.change_seq for r in rows))
        counts[name] = len(rows)
    result = await db.execute(delete(ProcessedMutation).where(ProcessedMutation.created_at < cutoff))
    counts["processed_mutations"] = result.rowcount
    await upsert(db, SyncMeta.__table__, [{"key": "purged_through", "value": str(highest)}], ["key"])
    return counts


def _references_to(table: Table) -> list[Column]:
    """Every foreign-key column, in any table, that points at ``table``."""
    return [fk.parent for other in Base.metadata.sorted_tables for fk in other.foreign_keys
            if fk.column.table is table]
