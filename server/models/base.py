"""Declarative base and the columns every synced (desa-owned) row carries."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from server.db.types import UUID, TZDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {uuid.UUID: UUID(), dt.datetime: TZDateTime()}


class SyncedRow:
    """Identity, ownership and versioning for every row that travels to and from phones.

    ``id`` is made by the device (UUID v7 preferred) and never renumbered. ``version`` counts accepted
    changes of this row; ``change_seq`` is the server-wide sequence number of its latest change, the
    pull cursor. ``deleted_at`` marks a tombstone: rows are never hard-deleted while phones may hold them.
    """

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, sort_order=-100)
    version: Mapped[int] = mapped_column(Integer, default=1, sort_order=-80)
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, index=True, sort_order=-70)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, sort_order=100)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, sort_order=100)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(default=None, sort_order=100)
    # Set while an unresolved conflict exists for this row (see server.models.sync.Conflict).
    has_conflict: Mapped[bool] = mapped_column(Boolean, default=False, sort_order=-60)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index, ...]:
        # A pull reads "this desa's rows changed after the cursor, oldest first".
        return (Index(f"ix_{cls.__tablename__}_desa_code_change_seq", "desa_code", "change_seq"),)

    @declared_attr
    def desa_code(cls) -> Mapped[str]:
        return mapped_column(String(13), ForeignKey("wilayah.code"), index=True, sort_order=-90)

    @declared_attr
    def created_by(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id"), default=None, sort_order=100)

    @declared_attr
    def updated_by(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id"), default=None, sort_order=100)
