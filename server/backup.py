"""Backing up the database and restoring it so that phones notice (docs/deploy.md, "Backups").

SQLite: SQLite's online backup API, a consistent copy while the server keeps writing (WAL readers do not
block writers); a restore copies back the same way, page by page in one write transaction, so a failed
restore leaves the database as it was. PostgreSQL: ``pg_dump --format=custom`` (one snapshot) and
``pg_restore --clean --single-transaction`` (all or nothing). After a restore the database is migrated
to the code's schema and gets a new identity (``sync.engine.timeline.new_identity``).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from server.errors import KaderError


def backup(database_url: str, target: Path) -> None:
    """A consistent copy of the database in ``target`` (which must not exist yet), while the server runs."""
    if target.exists():
        raise KaderError("validation_failed", f"{target} exists already; name a new file for the backup.")
    if not target.parent.is_dir():
        raise KaderError("validation_failed", f"folder {target.parent} does not exist.")
    partial = target.with_name(f".{target.name}.partial")
    try:
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_path(url), partial)
        else:
            _pg("pg_dump", url, ["--format=custom", f"--file={partial}"])
        os.replace(partial, target)  # a backup file that exists is a whole one
    finally:
        partial.unlink(missing_ok=True)


def restore(database_url: str, source: Path) -> None:
    """Replace the database's contents with the backup in ``source``. Stop the server first. The caller
    then migrates and gives the database a new identity (``kader restore`` does both)."""
    if not source.is_file():
        raise KaderError("validation_failed", f"backup file {source} does not exist.")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _check_sqlite_backup(source)
        live = _sqlite_path(url)
        with closing(_connect(source, read_only=True)) as src, closing(_connect(live)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")  # what the server runs in (the backup file is a plain one)
    else:
        listed = _pg("pg_restore", url, ["--list", str(source)], database=False, check=False)
        if listed.returncode != 0:
            raise KaderError("validation_failed", f"{source} is not a pg_dump archive (--format=custom): "
                             f"{_first_line(listed.stderr)}")
        _pg("pg_restore", url, ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                                "--exit-on-error", str(source)])


# --- SQLite ---------------------------------------------------------------------------------------------

def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise KaderError("validation_failed", "an in-memory SQLite database cannot be backed up or restored.")
    return Path(url.database)


def _connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    conn = sqlite3.connect(uri, uri=True, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _sqlite_backup(live: Path, target: Path) -> None:
    if not live.is_file():
        raise KaderError("validation_failed", f"database file {live} does not exist.")
    with closing(_connect(live, read_only=True)) as src, closing(_connect(target)) as dst:
        src.backup(dst)
        # One self-contained file: no -wal beside it to forget when the file is copied elsewhere.
        dst.execute("PRAGMA journal_mode=DELETE")


def _check_sqlite_backup(source: Path) -> None:
    """Refuse anything but a sound Kader database before a single page of the live one is touched."""
    try:
        with closing(_connect(source, read_only=True)) as conn:
            if conn.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise KaderError("validation_failed", f"{source} is damaged (PRAGMA quick_check failed).")
            tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as e:
        raise KaderError("validation_failed", f"{source} is not a SQLite database: {e}.") from None
    if not {"alembic_version", "sync_meta"} <= tables:
        raise KaderError("validation_failed", f"{source} is a SQLite database but not a Kader one.")


# --- PostgreSQL -----------------------------------------------------------------------------------------

def _pg(tool: str, url: URL, args: list[str], *, database: bool = True,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL client tool on the configured database. The password travels in the environment,
    never on the command line (where ``ps`` would show it)."""
    exe = shutil.which(tool)
    if exe is None:
        raise KaderError("validation_failed", f"{tool} is not installed (Debian: apt-get install postgresql-client).")
    conn = [f"--host={url.host or '127.0.0.1'}", f"--port={url.port or 5432}"]
    if url.username:
        conn.append(f"--username={url.username}")
    if database:
        conn.append(f"--dbname={url.database}")
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run([exe, *conn, "--no-password", *args] if database else [exe, *args], env=env,
                          capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise KaderError("validation_failed", f"{tool} failed: {_first_line(done.stderr)}")
    return done


def _first_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "no message").strip()
