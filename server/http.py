"""Type aliases the HTTP handlers share: the request's transaction and the authenticated caller."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TypeAlias

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.session import Database

DB: TypeAlias = NamedDependency[AsyncSession]  # the one transaction of this request (server/db/session.py)
Caller: TypeAlias = Request[Principal, str, State]  # request.user is the Principal of the device token
# A text field's pattern: no NUL character. PostgreSQL text cannot hold one (SQLite can), so both refuse it.
NO_NUL = r"^[^\x00]*$"


async def provide_db(state: State, request: Request) -> AsyncGenerator[AsyncSession, None]:
    """Litestar dependency ``db``: the request's one transaction (``Database.transaction``). Its teardown runs
    before the response is sent, so a failed commit becomes an error response rather than an acknowledgement
    of something that was not stored."""
    database: Database = state.database
    async with database.transaction(request.method) as session:
        yield session
