"""Engine and session factory. SQLite gets WAL, foreign keys and write-ahead locking on every connection."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def _json(value: Any) -> str:
    """JSON columns (history, stored answers, conflicts) written by msgspec: a push writes two JSON
    values per record, and the standard library's encoder was a tenth of its time."""
    return msgspec.json.encode(value).decode()


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    if url.startswith("sqlite"):
        # hide_parameters: bound values (an admin's session token, anything typed) stay out of the SQL
        # log at debug level and out of error messages.
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True, json_serializer=_json)
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True,
                                 json_serializer=_json)
    _refuse_closed_connections(engine)
    return engine


def _refuse_closed_connections(engine: AsyncEngine) -> None:
    """What ``pool_pre_ping`` is for, without its cost: with asyncpg it is three round trips (BEGIN, a
    query, ROLLBACK) on every checkout, and a request checks out twice (token, then its transaction).
    A connection the server closed (a restart, an idle time-out) is seen by asyncpg as soon as the
    socket closes; the pool is told to replace it before anyone uses it."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_conn, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
        if dbapi_conn.driver_connection.is_closed():
            raise DisconnectionError("the database closed this pooled connection")


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        # Take transaction control from pysqlite so that BEGIN below is the only one issued.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then writes
        # fails with SQLITE_BUSY instead of waiting when another writer got in between. Read-only
        # sessions (see ``read_only``) begin deferred so that they never wait for writers (WAL).
        readonly = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


READ_ONLY = "kader_read_only"


def make_sessionmaker(engine: AsyncEngine, *, read_only: bool = False,
                      single_reads: bool = False) -> async_sessionmaker[AsyncSession]:
    """``single_reads``: for a session that runs one SELECT (the token check). On PostgreSQL it runs in
    autocommit, one round trip instead of BEGIN, SELECT, ROLLBACK; SQLite begins deferred (``read_only``)."""
    if single_reads and engine.dialect.name == "postgresql":
        return async_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only or single_reads else engine
    return async_sessionmaker(bind, expire_on_commit=False)
