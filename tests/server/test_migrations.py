"""Migrations build the schema the models describe, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.migrate import compare_type, head_revision, upgrade
from server.models import Base
from tests.conftest import LiveServer, Store


def test_the_database_is_at_the_head_revision(store: Store) -> None:
    assert store.scalar("SELECT version_num FROM alembic_version") == head_revision()


def test_migrated_schema_matches_the_models(store: Store) -> None:
    async def diff(s: AsyncSession) -> list:
        conn = await s.connection()
        opts = {"compare_type": compare_type}
        return await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c, opts=opts), Base.metadata))

    assert store.run(diff) == []


def test_upgrading_again_changes_nothing(store: Store) -> None:
    upgrade(store.url)
    assert store.scalar("SELECT count(*) FROM bidang") == 32


def test_bidang_reference_data_is_seeded(store: Store) -> None:
    rows = dict(store.rows("SELECT code, parent_code FROM bidang"))
    assert rows["2.3"] == "2" and rows["2"] is None and rows["5.3"] == "5"
    assert sorted(code for code, parent in rows.items() if parent is None) == ["1", "2", "3", "4", "5"]


def test_health_reports_the_schema_version(server: LiveServer) -> None:
    with server.client() as c:
        body = c.get("/api/health").json()
    assert body == {"status": "ok", "database": "ok", "schema_version": head_revision(), "schema_head": head_revision(),
                    "rate_limit_store": "per-process"}


def test_sqlite_columns_declare_the_types_piccolo_converts(store: Store) -> None:
    if not store.url.startswith("sqlite"):
        return  # PostgreSQL has native uuid and timestamptz, checked by the comparison above
    from server.db.types import UUID, TZDateTime

    for table in Base.metadata.sorted_tables:
        declared = {name: typ for _, name, typ, *_ in store.rows(f"PRAGMA table_info({table.name})")}
        for column in table.columns:
            if isinstance(column.type, UUID):
                assert declared[column.name] == "UUID", (table.name, column.name)
            elif isinstance(column.type, TZDateTime):
                assert declared[column.name] == "TIMESTAMPTZ", (table.name, column.name)
