"""Fixtures for the fault tests: a private PostgreSQL cluster that a test may stop and restart.

The machine's shared cluster (127.0.0.1:5432) serves every other test and engineer, so a test that takes
the database away starts its own: ``initdb`` once per session into a temporary directory, ``pg_ctl`` to
start, stop and restart it on a free port. As root the PostgreSQL binaries refuse to run, so they run
as the ``postgres`` user (``runuser``); as any other user they run as that user.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.db.migrate import upgrade
from server.wilayah.loader import load_wilayah
from tests.conftest import GEROKGAK, Store, free_port
from tests.support.missing import missing


def postgres_bindir() -> Path | None:
    """The newest installed PostgreSQL's binaries (Debian's layout first, then whatever is on PATH)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if candidates:
        return candidates[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PrivatePostgres:
    """One PostgreSQL cluster of our own, on 127.0.0.1:``port``, trusting local connections."""

    def __init__(self, bindir: Path, root: Path, port: int) -> None:
        self.bindir, self.root, self.port = bindir, root, port
        self.data = root / "data"
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._as_postgres, str(self.bindir / tool), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)

    def _pg_ctl(self, action: str, *extra: str) -> None:
        # fsync off: this cluster holds nothing worth keeping, and only ever stops cleanly.
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", action, "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-o", options, *extra)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self) -> None:
        """Fast shutdown: every open transaction is rolled back and every client disconnected."""
        self._pg_ctl("stop", "-m", "fast")

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import asyncpg

        async def create() -> None:
            conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user="postgres", database="postgres")
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(create())
        return self.url(name)


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    bindir = postgres_bindir()
    if bindir is None:
        missing("postgresql", "the PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    root = Path(tempfile.mkdtemp(prefix="kader-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = PrivatePostgres(bindir, root, free_port())
    cluster.init()
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # a test left it stopped
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def private_db_url(private_postgres: PrivatePostgres) -> str:
    """A migrated database on the private cluster, with the regions of Kecamatan Gerokgak."""
    url = private_postgres.create_database("kader")
    upgrade(url)
    Store(url).run(lambda s: load_wilayah(s, GEROKGAK))
    return url
