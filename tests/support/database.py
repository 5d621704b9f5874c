"""The databases the tests run on (a SQLite file and the PostgreSQL server here), direct access to what
the server stored, and a desa of its own for any test that counts what is in one."""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import socket
import threading
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from server.auth import service as auth_service
from server.db.engine import make_engine, make_sessionmaker
from server.models import Wilayah
from server.models.enums import Role, WilayahKind
from tests.support.missing import missing

PG_HOST = os.environ.get("KADER_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("KADER_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("KADER_TEST_PG_USER", "postgres")

# The regions every test database holds (loaded from the register), and desa of them that tests share:
# a test that counts or lists what is in a desa makes its own (``Store.new_desa``).
GEROKGAK, GANRA = "51.08.01", "73.12.07"
DESA_GEROKGAK, DESA_PEJARAKAN = "51.08.01.2009", "51.08.01.2002"
DESA_GANRA = "73.12.07.2002"
# The register's desa of each (a test database may hold more: those tests made).
REGISTER_GEROKGAK = frozenset(f"51.08.01.20{i:02d}" for i in range(1, 15))
REGISTER_GANRA = frozenset(f"73.12.07.20{i:02d}" for i in range(1, 5))

T = TypeVar("T")
# Desa codes the register never uses (its desa are numbered 2001…, kelurahan 1001…).
_new_desa_numbers = itertools.count(9001)
_made: dict[str, set[str]] = {}  # database URL -> the desa codes tests made in it


def pg_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=2):
            return True
    except OSError:
        return False


async def pg_admin(sql: str) -> None:
    """One statement on the PostgreSQL server's maintenance database (CREATE/DROP DATABASE…)."""
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class _StoreLoop:
    """One event loop, on a thread of its own, for every ``Store`` call of the test process: an engine and
    its pooled connections then live from call to call, so a check costs a query rather than a new
    connection (about 40 ms on PostgreSQL, thousands of times a run). Any thread may call in, Playwright's
    too (its sync API keeps a loop of its own on the test thread, which rules out ``asyncio.run``)."""

    MAX_ENGINES = 8  # tests that make databases of their own: the least recently used engine is closed

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._engines: OrderedDict[str, AsyncEngine] = OrderedDict()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, name="store-loop", daemon=True)
                self._thread.start()
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("a Store call from inside another Store call would wait for itself")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def engine(self, url: str) -> AsyncEngine:
        with self._lock:
            if url in self._engines:
                self._engines.move_to_end(url)
                return self._engines[url]
            # SQLite as the server configures it (WAL, foreign keys, BEGIN IMMEDIATE); PostgreSQL checks a
            # pooled connection before lending it, as a test may have restarted or dropped the database.
            engine = make_engine(url) if url.startswith("sqlite") else create_async_engine(
                url, pool_pre_ping=True, hide_parameters=True)
            self._engines[url] = engine
            evicted = self._engines.popitem(last=False)[1] if len(self._engines) > self.MAX_ENGINES else None
        if evicted is not None:
            self.run(evicted.dispose())
        return engine

    def close(self, url: str) -> None:
        with self._lock:
            engine = self._engines.pop(url, None)
        if engine is not None:
            self.run(engine.dispose())


_store_loop = _StoreLoop()


class Store:
    """Direct database access for arranging and checking what the server stored."""

    def __init__(self, url: str) -> None:
        self.url = url

    def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work(session)`` in one committed transaction."""
        engine = _store_loop.engine(self.url)

        async def go() -> T:
            async with make_sessionmaker(engine)() as session:
                result = await work(session)
                await session.commit()
                return result

        return _store_loop.run(go())

    def close(self) -> None:
        """Close this database's pooled connections (before it is dropped, or copied as a template)."""
        _store_loop.close(self.url)

    def scalar(self, sql: str, **params: Any) -> Any:
        async def work(s: AsyncSession) -> Any:
            return (await s.execute(text(sql), params)).scalar()

        return self.run(work)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        async def work(s: AsyncSession) -> list[Any]:
            return list((await s.execute(text(sql), params)).all())

        return self.run(work)

    def user(self, role: Role | str, wilayah: str, *, password: str | None = None) -> tuple[str, str]:
        """Create an account with a unique username; returns (username, password)."""
        username = f"{role}-{secrets.token_hex(4)}"
        password = password or secrets.token_urlsafe(12)

        async def work(s: AsyncSession) -> None:
            await auth_service.create_user(s, username, password, Role(role), wilayah, nama=username)

        self.run(work)
        return username, password

    def made_desa(self) -> set[str]:
        """The desa tests made in this database (the rest of ``wilayah`` is the register's)."""
        return set(_made.get(self.url, ()))

    def desa_codes(self, kecamatan: str) -> set[str]:
        """Every desa of ``kecamatan`` in this database: the register's and those tests made."""
        return {code for (code,) in self.rows("SELECT code FROM wilayah WHERE parent_code = :k", k=kecamatan)}

    def new_desa(self, kecamatan: str = GEROKGAK, name: str | None = None) -> str:
        """A desa no other test writes in: a new row of the region register under ``kecamatan`` (a desa
        needs nothing else: its dusun, cadres and records are what tests add). Returns its code."""

        async def work(s: AsyncSession) -> str:
            code = f"{kecamatan}.{next(_new_desa_numbers)}"
            while await s.get(Wilayah, code) is not None:
                code = f"{kecamatan}.{next(_new_desa_numbers)}"
            s.add(Wilayah(code=code, name=name or f"Uji {code[-4:]}", level=4, kind=WilayahKind.desa,
                          parent_code=kecamatan))
            return code

        code = self.run(work)
        _made.setdefault(self.url, set()).add(code)
        return code


@contextmanager
def postgres_database(prefix: str = "kader_test") -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    if not pg_reachable():
        missing("postgresql", f"no PostgreSQL server reachable at {PG_HOST}:{PG_PORT}")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield url
    finally:
        Store(url).close()
        asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
