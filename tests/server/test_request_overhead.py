"""What every authenticated request costs before its handler runs: the token check and the pooled
connection it checks out. Both run on every push and pull, so round trips here are paid thousands of
times a minute under load (bench/README.md)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text

from server.auth.passwords import new_token, token_hash
from server.auth.service import principal_for_token
from server.db.engine import make_engine
from server.db.session import Database
from tests.conftest import DESA_GEROKGAK, Store, _pg_admin, postgres_database
from tests.support.statements import counting


def test_the_token_check_is_one_statement_and_writes_nothing(store: Store) -> None:
    username, _ = store.user("kader", DESA_GEROKGAK)
    token = new_token()
    store.run(lambda s: s.execute(text(
        "INSERT INTO devices (user_id, name, token_hash, created_at) "
        "SELECT id, 'test', :h, CURRENT_TIMESTAMP FROM users WHERE username = :u"), {"u": username,
                                                                                      "h": token_hash(token)}))
    before = store.rows("SELECT last_seen_at, revoked_at FROM devices WHERE token_hash = :h", h=token_hash(token))

    async def go() -> tuple[Any, Any, list[str]]:
        database = Database.for_url(store.url)
        try:
            with counting(database.engine) as statements:
                async with database.token_sessions() as db:
                    principal = await principal_for_token(db, token)
                async with database.token_sessions() as db:
                    unknown = await principal_for_token(db, new_token())
            return principal, unknown, statements
        finally:
            await database.engine.dispose()

    principal, unknown, statements = asyncio.run(go())
    assert principal is not None and principal.username == username and unknown is None
    # SQLite begins its read explicitly (BEGIN, deferred: it never waits for a writer); PostgreSQL reads
    # in autocommit, the SELECT alone.
    selects = [s for s in statements if s.startswith("SELECT")]
    assert len(selects) == 2 and len(statements) == (4 if store.url.startswith("sqlite") else 2), statements
    assert store.rows("SELECT last_seen_at, revoked_at FROM devices WHERE token_hash = :h",
                      h=token_hash(token)) == before


def test_a_pooled_connection_the_database_closed_is_replaced_before_use() -> None:
    """Without pool_pre_ping (three round trips a checkout with asyncpg) a restart of PostgreSQL must
    still not hand a dead connection to a request."""
    with postgres_database("kader_pool") as url:
        async def go() -> tuple[int, int]:
            engine = make_engine(url, pool_size=1)
            try:
                async with engine.connect() as c:
                    first = (await c.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                await _pg_admin(f"SELECT pg_terminate_backend({first})")
                await asyncio.sleep(0.5)  # the event loop sees the socket close
                async with engine.connect() as c:
                    second = (await c.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                return first, second
            finally:
                await engine.dispose()

        first, second = asyncio.run(go())
        assert second != first
