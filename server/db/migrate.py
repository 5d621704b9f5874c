"""Apply Alembic migrations and read the schema version, from code (``kader serve`` and the tests)."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert head is not None
    return head


def upgrade(url: str, revision: str = "head") -> None:
    """Blocking: runs in its own event loop, so call it before the server's loop starts (or in a thread)."""
    command.upgrade(alembic_config(url), revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's schema revision, or None when it was never migrated. Raises if unreachable."""
    async with engine.connect() as conn:
        if not await conn.run_sync(lambda c: inspect(c).has_table("alembic_version")):
            return None
        return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()


def compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type):  # type: ignore[no-untyped-def]
    """Alembic type comparison that understands our SQLite-declared types.

    SQLite reflects an unknown declared type such as ``UUID`` or ``TIMESTAMPTZ`` as NUMERIC, so the
    default comparison would report a change on every run. (tests/server/test_migrations.py checks the
    declared text itself through PRAGMA table_info.)
    """
    from sqlalchemy.types import NUMERIC, TIMESTAMP

    from server.db.types import UUID, NaiveDateTime, TZDateTime

    if context.dialect.name == "sqlite" and isinstance(metadata_type, (UUID, TZDateTime)):
        return not isinstance(inspected_type, NUMERIC)
    if context.dialect.name == "sqlite" and isinstance(metadata_type, NaiveDateTime):
        return not isinstance(inspected_type, TIMESTAMP)
    return None  # fall back to Alembic's own comparison
