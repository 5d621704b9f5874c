"""Many rows into one table in one statement: a push batch's new rows, its history and its answers.

SQLite takes them with one executemany (its driver loops over the rows in C). On PostgreSQL an
executemany is still one INSERT executed per row; ``INSERT … SELECT FROM unnest(…)`` with one array per
column inserts them all in one execution, which costs the server less than half the CPU for a batch of
500. The arrays are bound through the columns' own types, so a value is stored exactly as a plain INSERT
stores it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, Insert, Table, Text, bindparam, cast, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_rows(db: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table``."""
    if not rows:
        return
    dialect = db.bind.dialect
    if dialect.name != "postgresql":
        await db.execute(insert(table), rows)
        return
    names = tuple(rows[0])
    statement, encoders = _unnest_insert(table, names, dialect)
    params = {}
    for name in names:
        values = [row[name] for row in rows]
        encode = encoders.get(name)
        params[name] = [encode(v) for v in values] if encode else values
    await db.execute(statement, params)


@functools.cache
def _unnest_insert(table: Table, names: tuple[str, ...],
                   dialect: Dialect) -> tuple[Insert, dict[str, Callable[[Any], Any]]]:
    """The statement, and the encoders of the JSON columns: a JSON array would be taken for one more
    dimension of the column's array, so JSON values travel as their text (encoded as an INSERT encodes
    them, JSON null included) and are cast back in the statement."""
    encoders = {name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                for name in names if isinstance(table.c[name].type, JSON)}
    arrays = [bindparam(name, type_=ARRAY(Text if name in encoders else table.c[name].type)) for name in names]
    batch = func.unnest(*arrays).table_valued(*names).render_derived(name="batch")
    values = [cast(batch.c[name], table.c[name].type) if name in encoders else batch.c[name] for name in names]
    return insert(table).from_select(list(names), select(*values)), encoders
