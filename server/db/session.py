"""One database transaction per request: commit when the handler succeeds, roll back when it raises."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass

from litestar import Request
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.db.engine import make_engine, make_sessionmaker
from server.settings import Settings


@dataclass(slots=True)
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
    token_sessions: async_sessionmaker[AsyncSession]  # the device-token check on every request: one SELECT

    @classmethod
    def connect(cls, settings: Settings) -> Database:
        return cls.for_url(settings.database_url, settings.pool_size)

    @classmethod
    def for_url(cls, url: str, pool_size: int = 10) -> Database:
        engine = make_engine(url, pool_size)
        return cls(engine, make_sessionmaker(engine), make_sessionmaker(engine, read_only=True),
                   make_sessionmaker(engine, single_reads=True))


async def provide_db(state: State, request: Request) -> AsyncGenerator[AsyncSession, None]:
    """Litestar dependency ``db``. Its teardown runs before the response is sent, so a failed commit
    becomes an error response rather than an acknowledgement of something that was not stored.

    GET requests begin deferred on SQLite (see ``read_only``): in WAL mode they read alongside a writer
    instead of queueing for the write lock. Their incidental bookkeeping writes may then fail fast,
    and are written to tolerate that (sync.engine.pull.note_pull).
    """
    database: Database = state.database
    sessions = database.read_sessions if request.method == "GET" else database.sessions
    async with sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
