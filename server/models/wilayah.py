"""Regions (Kemendagri register) and the dusun each desa defines for itself."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, SyncedRow
from server.models.enums import WilayahKind, checked


class Wilayah(Base):
    """Provinsi → kabupaten/kota → kecamatan → desa/kelurahan, keyed by the dotted code (`51.08.01.2009`)."""

    __tablename__ = "wilayah"

    code: Mapped[str] = mapped_column(String(13), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[int] = mapped_column(Integer)
    kind: Mapped[WilayahKind] = mapped_column(checked(WilayahKind, "wilayah_kind"))
    parent_code: Mapped[str | None] = mapped_column(String(13), ForeignKey("wilayah.code"), index=True)


class Dusun(SyncedRow, Base):
    """A hamlet of one desa; not in any national register, so each desa names its own."""

    __tablename__ = "dusun"

    nama: Mapped[str] = mapped_column(String(120))
    sebutan: Mapped[str] = mapped_column(String(40), default="Dusun")  # local word: Banjar Dinas, Jorong…
