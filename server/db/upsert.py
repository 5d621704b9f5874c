"""INSERT … ON CONFLICT for both engines (the dialects spell it the same way in SQLAlchemy)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def upsert(session: AsyncSession, table: Table, rows: list[dict[str, Any]], key: list[str]) -> None:
    """Insert rows, or update every non-key column of the rows that exist already."""
    if not rows:
        return
    dialect = session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    update = {c: stmt.excluded[c] for c in rows[0] if c not in key}
    await session.execute(stmt.on_conflict_do_update(index_elements=key, set_=update), rows)
