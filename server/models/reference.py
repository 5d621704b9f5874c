"""Reference data phones need: bidang and sub-bidang of Permendagri 20/2018 (rows seeded by migration 0001)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base


class Bidang(Base):
    __tablename__ = "bidang"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)  # "2" or "2.3"
    nama: Mapped[str] = mapped_column(String(160))
    parent_code: Mapped[str | None] = mapped_column(String(8), ForeignKey("bidang.code"), index=True)

