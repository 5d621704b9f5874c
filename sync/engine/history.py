"""Reading a record's history: every accepted change, oldest first. The one reader, for the sync API's
history endpoint and the office's record page alike."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import History
from sync.engine.tables import MODELS


async def desa_of(db: AsyncSession, table: str, record_id: uuid.UUID) -> str | None:
    """The desa a record belongs to (deleted or not), or None when there is no such record."""
    model = MODELS.get(table)
    return await db.scalar(select(model.desa_code).where(model.id == record_id)) if model else None


async def entries(db: AsyncSession, table: str, record_id: uuid.UUID) -> list[History]:
    """Every version of the record: who, when, through which door, field old → new."""
    return list(await db.scalars(
        select(History).where(History.table_name == table, History.record_id == record_id)
        .order_by(History.version, History.id)
    ))
