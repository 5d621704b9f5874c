"""Bookkeeping of the sync engine: change sequence, clients, processed mutations, history, conflicts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.types import utcnow
from server.models.base import Base, SyncedRow

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigSerial = BigInteger().with_variant(Integer(), "sqlite")


class SyncCounter(Base):
    """The server-wide change sequence: one row, bumped inside every writing transaction.

    Bumping it row-locks it until commit, so writers take sequence numbers in commit order and a pull
    that has seen N has seen every change numbered below N.
    """

    __tablename__ = "sync_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class SyncMeta(Base):
    """Named server-wide values: ``purged_through`` (the change_seq up to which tombstones are gone)."""

    __tablename__ = "sync_meta"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SyncClient(Base):
    """One installation of the app (a browser profile on a phone), bound to the account that first used it."""

    __tablename__ = "sync_clients"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), default=None)
    app_version: Mapped[str] = mapped_column(String(40), default="")
    protocol_version: Mapped[int] = mapped_column(Integer, default=1)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)  # highest mutation seq seen
    last_push_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_pull_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ProcessedMutation(Base):
    """Every mutation the server has answered, with its answer: a retry gets the same answer, no new write.

    Stored in the same transaction as the change it made, so either both exist or neither. Keyed by
    mutation id *and* client: mutation ids are made by the phones, so another account may send one
    already taken, and must never be given the answer made for someone else (sync/engine/push.py, step 3).
    """

    __tablename__ = "processed_mutations"
    # Piccolo (the admin's ORM) has no composite keys; the admin never shows this table (admin/tables.py).
    __table_args__ = {"info": {"piccolo": {"primary_key": "mutation_id"}}}

    mutation_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sync_clients.id"), primary_key=True, index=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class History(Base):
    """Every accepted change of a synced row: who, when, through what, which fields, old → new."""

    __tablename__ = "history"

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[uuid.UUID] = mapped_column(index=True)
    desa_code: Mapped[str] = mapped_column(String(13), index=True)
    version: Mapped[int] = mapped_column(Integer)
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    op: Mapped[str] = mapped_column(String(12))  # create, update, delete, restore, resolve, review
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    client_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    mutation_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    via: Mapped[str] = mapped_column(String(12), default="sync")  # sync, admin, resolve
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {field: [old, new]}
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Conflict(SyncedRow, Base):
    """A cadre's value that could not be applied because someone else changed the same thing first.

    ``kind``: ``field`` (same field changed on both sides), ``edit_deleted`` (an edit of a record deleted
    meanwhile), ``delete_edited`` (a delete of a record edited meanwhile). ``field_values`` holds
    ``{field: {base, mine, theirs}}`` in wire form. Nothing typed is dropped: it is kept here until a
    person resolves it.
    """

    __tablename__ = "conflicts"

    table_name: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    field_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    base_version: Mapped[int] = mapped_column(Integer)
    server_version: Mapped[int] = mapped_column(Integer)
    mutation_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    client_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(default=None, index=True)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    resolution: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
