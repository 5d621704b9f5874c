"""Allocating ``change_seq`` numbers: in commit order, never reused, shared by every worker."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import SyncCounter


async def allocate(db: AsyncSession, count: int) -> range:
    """Reserve ``count`` consecutive sequence numbers.

    The UPDATE row-locks the counter until this transaction ends (PostgreSQL; SQLite holds its one
    write lock anyway), so a later writer can only take numbers after this one commits: a pull that
    sees number N has also seen every number below N. Called once, at the end of the transaction, to
    keep that lock short.
    """
    top = await db.scalar(
        update(SyncCounter).where(SyncCounter.id == 1).values(value=SyncCounter.value + count)
        .returning(SyncCounter.value)
    )
    assert top is not None, "sync_counter row missing (migration 0001 creates it)"
    return range(top - count + 1, top + 1)
