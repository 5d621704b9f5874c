"""Review state of cadre submissions, and the comments that travel with them."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from server.models.base import Base, SyncedRow
from server.models.enums import ReviewState, checked


class Reviewable:
    """Columns of a record the kecamatan reviews: its state, the admin's note, who reviewed it and when."""

    review_state: Mapped[ReviewState] = mapped_column(
        checked(ReviewState, "review_state"), default=ReviewState.diajukan, index=True
    )
    review_note: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    edited_by_admin: Mapped[bool] = mapped_column(Boolean, default=False)

    @declared_attr
    def reviewed_by(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id"), default=None)


class Komentar(SyncedRow, Base):
    """A comment on any record (by the admin or a cadre). Comments only ever grow."""

    __tablename__ = "komentar"

    record_table: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[uuid.UUID] = mapped_column(index=True)
    isi: Mapped[str] = mapped_column(Text)
