"""Admin log-in against Kader's own ``users`` table, with argon2 hashes; sessions in ``admin_sessions``.

Piccolo's ``BaseUser`` assumes its own PBKDF2 hashes: it re-hashes any password value that does not
start with ``pbkdf2_sha256`` — in ``__init__`` and ``__setattr__``, so also when it merely loads a user
row (``objects()``), which the session middleware does on every admin request. The subclass made here
keeps argon2 hashes as they are, hashes new passwords with argon2 (server.auth.passwords), and only
lets active, unlocked users of role ``admin`` in. Failed log-ins are counted in the account and lock it
for a doubling time, by the same rule and settings as the API's log-in (server.auth.service), so the
lock holds across workers and across both doors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.engine.base import Engine
from piccolo.table import Table
from piccolo_api.session_auth.tables import SessionsBase

from server.auth import passwords
from server.db.types import utcnow
from server.models import User
from server.models.enums import Role

ARGON2_PREFIX = "$argon2"
_USERS = User.__table__


def _is_hash(value: str) -> bool:
    return value.startswith(ARGON2_PREFIX)


class KaderUser(BaseUser):
    """``BaseUser`` behaviour on argon2 hashes. Bound to a table and engine by :func:`auth_tables`."""

    # BaseUser declares a naive Timestamp; Kader's column holds an aware instant.
    last_login = Timestamptz(null=True, default=None, required=False)
    locked_until = Timestamptz(null=True, default=None, required=False)
    role = Varchar(length=_USERS.c.role.type.length, choices=Role)
    wilayah_code = Varchar(length=_USERS.c.wilayah_code.type.length)  # the admin's scope
    failed_logins = Integer(default=0)

    # Same rule as server.auth.service.create_user.
    _min_password_length = 8
    # Same as Settings.login_max_failures / login_lock_seconds_max (set by auth_tables).
    _max_failures = 5
    _lock_seconds_max = 900

    def __init__(self, **kwargs: Any) -> None:
        password = kwargs.get("password")
        if password and not _is_hash(password):
            kwargs["password"] = passwords.hash_password(password)
        Table.__init__(self, **kwargs)  # skip BaseUser.__init__: it would PBKDF2-hash the argon2 hash
        # piccolo_api's session middleware checks only the ``admin`` flag of the loaded user, on every
        # request: tie it to the role, so that a demoted admin's open sessions stop working at once.
        if self.role != Role.admin.value:
            self.admin = False

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "password" and value and not _is_hash(value):
            value = passwords.hash_password(value)
        Table.__setattr__(self, name, value)

    @classmethod
    def _validate_password(cls, password: str) -> None:
        super()._validate_password(password)
        if _is_hash(password):
            raise ValueError("Do not pass a hashed password.")

    @classmethod
    def hash_password(cls, password: str, salt: str = "", iterations: int | None = None) -> str:
        """argon2id, whatever Piccolo asks for (salt and iterations belong to its PBKDF2 scheme)."""
        if len(password) > cls._max_password_length:
            raise ValueError("The password is too long.")
        return passwords.hash_password(password)

    @classmethod
    async def login(cls, username: str, password: str) -> int | None:
        """The user's id if the password matches an active, unlocked admin account; else ``None``."""
        if not isinstance(username, str) or not isinstance(password, str):
            return None  # JSON of another type (the gate refuses it first: admin/gate.py)
        username = username.strip()
        if len(username) > 100 or len(password) > cls._max_password_length:
            return None
        row = await (
            cls.select(cls.id, cls.password, cls.active, cls.admin, cls.role, cls.locked_until)
            .where(cls.username == username).first()
        )
        now = utcnow()
        if row is not None and row["locked_until"] is not None and row["locked_until"] > now:
            return None  # locked: not even a guess is checked
        # verify_password checks against a dummy hash when the user is unknown: same time either way.
        if not passwords.verify_password(row["password"] if row else None, password) or row is None:
            if row is not None:
                await cls._count_failure(row["id"], now)
            return None
        if not row["active"] or row["role"] != Role.admin.value or not row["admin"]:
            return None
        # Aware UTC: Piccolo's own login writes a naive local time, which TZDateTime cannot place.
        await cls.update({cls.last_login: now, cls.failed_logins: 0, cls.locked_until: None}).where(cls.id == row["id"])
        return row["id"]

    @classmethod
    async def _count_failure(cls, user_id: int, now: dt.datetime) -> None:
        """server.auth.service._count_failure's rule: after too many, lock for 30 s, doubling, capped."""
        await cls.update({cls.failed_logins: cls.failed_logins + 1}).where(cls.id == user_id)
        failures = await cls.select(cls.failed_logins).where(cls.id == user_id).first()
        over = (failures["failed_logins"] if failures else 0) - cls._max_failures
        if over >= 0:
            seconds = min(30 * 2**over, cls._lock_seconds_max)
            await cls.update({cls.locked_until: now + dt.timedelta(seconds=seconds)}).where(cls.id == user_id)


def auth_tables(engine: Engine, max_failures: int = 5,
                lock_seconds_max: int = 900) -> tuple[type[KaderUser], type[SessionsBase]]:
    """The user and session tables of one database (classes per engine, like the derived tables)."""

    class AdminUser(KaderUser, tablename="users", db=engine):
        _max_failures = max_failures
        _lock_seconds_max = lock_seconds_max

    class AdminSession(SessionsBase, tablename="admin_sessions", db=engine):
        pass

    return AdminUser, AdminSession
