"""User accounts, their devices (one long-lived token each) and admin web sessions.

``users`` carries the columns of Piccolo's ``BaseUser`` too (email, first/last name, admin, superuser,
last_login) so that piccolo-admin logs in against this one list of people, not a second one.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.types import NaiveDateTime, utcnow
from server.models.base import Base
from server.models.enums import Role, checked


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password: Mapped[str] = mapped_column(String(255))  # argon2 hash
    role: Mapped[Role] = mapped_column(checked(Role, "role"))
    # Scope: a desa (13 chars) for a kader; a kecamatan (8) or kabupaten (5) for an admin.
    wilayah_code: Mapped[str] = mapped_column(String(13), ForeignKey("wilayah.code"), index=True)
    nama: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Piccolo BaseUser columns, read by piccolo-admin's session auth.
    email: Mapped[str] = mapped_column(String(255), default="")
    first_name: Mapped[str | None] = mapped_column(String(255), default=None)
    last_name: Mapped[str | None] = mapped_column(String(255), default=None)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login: Mapped[dt.datetime | None] = mapped_column(default=None)


class LoginFailure(Base):
    """Failed log-ins with a username no account has, counted and locked by the rule of ``users``
    (server.auth.service): the lock answers alike whether or not the name exists, so it tells nobody
    which usernames are real. Keyed by a hash, not the name (people type passwords into it too)."""

    __tablename__ = "login_failures"

    username_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_failure_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class Device(Base):
    """A phone or browser a user logged in from. Revoking it kills its token."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class AdminSession(Base):
    """Piccolo ``SessionsBase`` shape: piccolo-admin's cookie sessions, stored here so workers share them."""

    __tablename__ = "admin_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(String(100), unique=True)
    user_id: Mapped[int] = mapped_column(Integer)
    # Naive, as Piccolo's SessionsBase writes and compares them.
    expiry_date: Mapped[dt.datetime] = mapped_column(NaiveDateTime())
    max_expiry_date: Mapped[dt.datetime] = mapped_column(NaiveDateTime())
