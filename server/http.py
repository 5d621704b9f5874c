"""Type aliases the HTTP handlers share: the request's transaction and the authenticated caller."""

from __future__ import annotations

from typing import TypeAlias

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal

DB: TypeAlias = NamedDependency[AsyncSession]  # the one transaction of this request (server/db/session.py)
Caller: TypeAlias = Request[Principal, str, State]  # request.user is the Principal of the device token
# A text field's pattern: no NUL character. PostgreSQL text cannot hold one (SQLite can), so both refuse it.
NO_NUL = r"^[^\x00]*$"
