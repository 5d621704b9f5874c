"""Kecamatan scoping of the admin, at the lowest layer piccolo-admin has: the Piccolo table classes.

piccolo-admin has no row-level permissions. Every Piccolo table derived for the admin (admin/tables.py)
carries :class:`ScopedRows`: while an admin request is being served (the gate in admin/gate.py sets
:data:`ADMIN` for the whole request), every ``select``, ``count``, ``exists`` and ``objects`` query on it
gets ``WHERE <region column> within <the admin's scope>`` added — whichever piccolo-admin or piccolo-api
endpoint builds the query (list, count, detail, foreign-key pickers, the CSV export, which reads through
the list endpoint, and any endpoint a later version adds). A table without a rule here answers nothing
at all inside an admin request (default deny), and Piccolo writes on these tables are refused: admin
writes go through the sync engine (admin/writes.py), never through Piccolo.

Outside an admin request (the CLI, tests that use the derived tables directly) :data:`ADMIN` is unset
and the tables behave as plain Piccolo tables.
"""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from typing import Any, Final

from piccolo.columns.combination import Where, WhereRaw
from piccolo.query import Count, Exists, Objects, Select
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.errors import KaderError
from server.models import AdminSession, User
from sync.vocabulary import Role


class _Denied:
    """The request has no valid admin session: scoped tables answer nothing."""

    def __repr__(self) -> str:
        return "DENIED"


DENIED: Final = _Denied()

# The admin behind the current request, set by the gate for the whole request (every task it spawns
# copies it). ``None``: not inside an admin request at all.
ADMIN: ContextVar[Principal | _Denied | None] = ContextVar("kader_admin", default=None)

# Region column per table: a row is visible when that column's code lies within the admin's scope.
# Tables with a ``desa_code`` column are scoped by it without being listed; tables listed in GLOBAL are
# the same for every admin (reference data); any other table answers nothing inside an admin request.
REGION_COLUMNS = {"wilayah": "code", "users": "wilayah_code"}
GLOBAL = frozenset({"bidang"})

SESSION_COOKIE = "id"  # piccolo_api's session cookie (piccolo-admin keeps the default name)


class AdminWriteRefused(PermissionError):
    """A Piccolo write on a derived table inside an admin request: admin writes go through the engine."""


def region_column(tablename: str, column_names: list[str]) -> str | None:
    if tablename in REGION_COLUMNS:
        return REGION_COLUMNS[tablename]
    return "desa_code" if "desa_code" in column_names else None


class ScopedRows:
    """Mixin for the derived Piccolo tables (see the module docstring). ``_kader_region`` is the region
    column's name, ``_kader_global`` marks reference tables; both are set by ``derive_tables``."""

    _kader_region: str | None = None
    _kader_global: bool = False

    @classmethod
    def _kader_where(cls) -> Where | WhereRaw | Any | None:
        who = ADMIN.get()
        if who is None or cls._kader_global:
            return None
        if isinstance(who, Principal) and cls._kader_region:
            column = cls._meta.get_column_by_name(cls._kader_region)  # type: ignore[attr-defined]
            # Codes hold digits and dots only, so LIKE has no wildcard to escape.
            return (column == who.scope) | column.like(f"{who.scope}.%")
        return WhereRaw("1 = 0")  # no session, or a table without a rule: nothing

    @classmethod
    def _kader_scoped(cls, query: Any) -> Any:
        where = cls._kader_where()
        return query if where is None else query.where(where)

    @classmethod
    def select(cls, *columns: Any, exclude_secrets: bool = False) -> Select:
        return cls._kader_scoped(super().select(*columns, exclude_secrets=exclude_secrets))  # type: ignore[misc]

    @classmethod
    def count(cls, column: Any = None, distinct: Any = None) -> Count:
        return cls._kader_scoped(super().count(column=column, distinct=distinct))  # type: ignore[misc]

    @classmethod
    def exists(cls) -> Exists:
        return cls._kader_scoped(super().exists())  # type: ignore[misc]

    @classmethod
    def objects(cls, *prefetch: Any) -> Objects:
        return cls._kader_scoped(super().objects(*prefetch))  # type: ignore[misc]

    @classmethod
    def _kader_refuse_write(cls) -> None:
        if ADMIN.get() is not None:
            raise AdminWriteRefused(f"{cls._meta.tablename}: admin writes go through the sync engine")  # type: ignore[attr-defined]

    @classmethod
    def insert(cls, *rows: Any) -> Any:
        cls._kader_refuse_write()
        return super().insert(*rows)  # type: ignore[misc]

    @classmethod
    def update(cls, values: Any = None, force: bool = False, use_auto_update: bool = True, **kwargs: Any) -> Any:
        cls._kader_refuse_write()
        return super().update(values, force=force, use_auto_update=use_auto_update, **kwargs)  # type: ignore[misc]

    @classmethod
    def delete(cls, force: bool = False) -> Any:
        cls._kader_refuse_write()
        return super().delete(force=force)  # type: ignore[misc]

    @classmethod
    def raw(cls, sql: str, *args: Any) -> Any:
        # piccolo-api's foreign-key search wraps the (scoped) ``select`` in raw SQL; raw SQL of its own
        # cannot be scoped, so only that shape is let through.
        if ADMIN.get() is not None and not sql.lstrip().upper().startswith("SELECT * FROM (SELECT"):
            raise AdminWriteRefused(f"{cls._meta.tablename}: raw SQL is not allowed in the admin")  # type: ignore[attr-defined]
        return super().raw(sql, *args)  # type: ignore[misc]


def current_admin() -> Principal:
    """The admin of this request; refuses when there is none (fail closed)."""
    who = ADMIN.get()
    if not isinstance(who, Principal):
        raise KaderError("auth_required", "Masuk dulu lewat halaman admin.")
    return who


async def admin_from_session(db: AsyncSession, token: str | None) -> Principal | None:
    """The admin of a piccolo-admin session cookie, checked as piccolo_api's session middleware checks
    it (same table, same naive-local expiry rule), and the account must still be an active admin: a
    demoted or deactivated admin's open session stops working at once."""
    if not token or len(token) > 100:
        return None
    row = (await db.execute(
        select(User.id, User.username, User.role, User.admin, User.wilayah_code, AdminSession.expiry_date,
               AdminSession.max_expiry_date)
        .join(User, User.id == AdminSession.user_id)
        .where(AdminSession.token == token, User.active.is_(True))
    )).first()
    now = dt.datetime.now()
    if row is None or not (row.expiry_date > now and row.max_expiry_date > now):
        return None
    if row.role != Role.admin or not row.admin:
        return None
    # No device behind a browser session: device_id 0 (ids start at 1), as admin/dashboard.py does.
    return Principal(user_id=row.id, username=row.username, role=Role.admin, scope=row.wilayah_code, device_id=0)
