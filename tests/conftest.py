"""Shared fixtures: every database test runs on a SQLite file and on the PostgreSQL server here.

``db_url`` is parametrised over both engines; each run makes (and afterwards drops) its own database,
migrated to head, with the regions of Kecamatan Gerokgak and Kecamatan Ganra loaded. ``server`` runs
the real app in a uvicorn subprocess on that database and yields its base URL; tests talk HTTP to it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import service as auth_service
from server.db.engine import make_engine, make_sessionmaker
from server.db.migrate import upgrade
from server.models.enums import Role
from server.wilayah.loader import load_wilayah

PG_HOST = os.environ.get("KADER_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("KADER_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("KADER_TEST_PG_USER", "postgres")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

GEROKGAK, GANRA = "51.08.01", "73.12.07"
DESA_GEROKGAK, DESA_PEJARAKAN = "51.08.01.2009", "51.08.01.2002"
DESA_GANRA = "73.12.07.2002"

T = TypeVar("T")

# The `kader` command of this environment (its console script, else the module).
_SCRIPT = Path(sys.executable).with_name("kader")
KADER = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "server.cli"]


def pg_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=2):
            return True
    except OSError:
        return False


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class Store:
    """Direct database access for arranging and checking what the server stored."""

    def __init__(self, url: str) -> None:
        self.url = url

    def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work(session)`` in one committed transaction on a fresh engine."""

        async def go() -> T:
            engine = make_engine(self.url)
            try:
                async with make_sessionmaker(engine)() as session:
                    result = await work(session)
                    await session.commit()
                    return result
            finally:
                await engine.dispose()

        return asyncio.run(go())

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


@contextmanager
def postgres_database(prefix: str = "kader_test") -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards. Skips only when no server is reachable,
    and never in CI."""
    if not pg_reachable():
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} (CI must reach it)")
        pytest.skip(f"no PostgreSQL server reachable at {PG_HOST}:{PG_PORT}")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'kader.sqlite3'}"
        else:
            url = stack.enter_context(postgres_database())
        upgrade(url)
        store = Store(url)
        store.run(lambda s: load_wilayah(s, GEROKGAK))
        store.run(lambda s: load_wilayah(s, GANRA))
        yield url


@pytest.fixture(scope="session")
def store(db_url: str) -> Store:
    return Store(db_url)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url = url
        self.process = process
        self.log = log

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def login(self, username: str, password: str, device: str = "test") -> str:
        with self.client() as c:
            r = c.post("/api/auth/login", json={"username": username, "password": password, "device_name": device})
        assert r.status_code == 200, r.text
        return r.json()["token"]


def start_server(db_url: str, data_dir: Path, extra_env: dict[str, str] | None = None,
                 workers: int = 1, ready_path: str = "/api/health", port: int | None = None) -> LiveServer:
    """The real app in a uvicorn subprocess; with ``workers`` > 1, uvicorn's supervisor and its workers.
    ``port`` starts it again where a stopped one listened (its clients keep their address)."""
    port = port or free_port()
    # Rate limits off unless a test asks for them: the suite logs in hundreds of accounts from 127.0.0.1.
    env = {**os.environ, "KADER_DATABASE_URL": db_url, "KADER_DATA_DIR": str(data_dir),
           "KADER_SECRET_KEY": "test-secret", "KADER_RATE_LOGIN_PER_MINUTE": "0", "KADER_RATE_PUSH_PER_MINUTE": "0",
           **(extra_env or {})}
    log = data_dir / f"server-{port}.log"
    args = [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning"]
    if workers > 1:
        args += ["--workers", str(workers)]
    process = subprocess.Popen(args, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a loaded 2-core machine may take long to import and fork
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            healthy = httpx.get(f"{url}{ready_path}", timeout=1).status_code == 200
            if healthy and (workers == 1 or len(children(process)) >= workers):
                return LiveServer(url, process, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start: {log.read_text()}")


def children(process: subprocess.Popen[bytes]) -> list[int]:
    path = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(db_url, tmp_path_factory.mktemp("server"))
    yield live
    stop_server(live)
