"""The database of one worker and its one rule for requests: one transaction each, committed when the work
succeeds and rolled back when it raises. Knows no web framework: the API's dependency (server/http.py) and the
office's handlers (admin/office.py) both open their transaction here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

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

    @asynccontextmanager
    async def transaction(self, method: str = "POST") -> AsyncIterator[AsyncSession]:
        """The one transaction of a request. ``GET`` begins deferred on SQLite (see ``read_only``): it reads
        alongside a writer instead of queueing for the write lock; its incidental bookkeeping writes may then
        fail fast, and are written to tolerate that (sync.engine.pull.note_pull)."""
        sessions = self.read_sessions if method == "GET" else self.sessions
        async with sessions() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            else:
                await session.commit()
