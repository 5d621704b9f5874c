"""Needs assessment (pengkajian keadaan desa): masalah, potensi and kebutuhan items with their scoring."""

from __future__ import annotations

import uuid

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, SyncedRow
from server.models.enums import JenisPengkajian, checked
from server.models.review import Reviewable


class Pengkajian(SyncedRow, Reviewable, Base):
    __tablename__ = "pengkajian"

    jenis: Mapped[JenisPengkajian] = mapped_column(checked(JenisPengkajian, "jenis_pengkajian"))
    bidang_code: Mapped[str | None] = mapped_column(String(8), ForeignKey("bidang.code"), default=None)
    uraian: Mapped[str] = mapped_column(Text)
    penyebab: Mapped[str] = mapped_column(Text, default="")
    potensi_tersedia: Mapped[str] = mapped_column(Text, default="")
    usulan_tindakan: Mapped[str] = mapped_column(Text, default="")
    dusun_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dusun.id"), default=None, index=True)
    kelompok_sumber: Mapped[str] = mapped_column(String(120), default="")  # who raised it: perempuan, pemuda…
    lokasi: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    akurasi_m: Mapped[float | None] = mapped_column(Float, default=None)
    # The five criteria (commonly 1–5 each; the scale is configurable, so no range is fixed here).
    skor_dirasakan: Mapped[int | None] = mapped_column(Integer, default=None)  # dirasakan banyak orang
    skor_parah: Mapped[int | None] = mapped_column(Integer, default=None)  # sangat parah / mendesak
    skor_pendapatan: Mapped[int | None] = mapped_column(Integer, default=None)  # menghambat pendapatan
    skor_sering: Mapped[int | None] = mapped_column(Integer, default=None)  # sering terjadi
    skor_potensi: Mapped[int | None] = mapped_column(Integer, default=None)  # tersedia potensi
    skor_total: Mapped[int | None] = mapped_column(Integer, default=None)
