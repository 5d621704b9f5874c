"""Usulan: the proposals of the daftar gagasan that feed RPJMDes / RKPDes."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, SyncedRow
from server.models.enums import PolaPelaksanaan, SumberDana, checked
from server.models.review import Reviewable


class Usulan(SyncedRow, Reviewable, Base):
    __tablename__ = "usulan"

    kegiatan: Mapped[str] = mapped_column(Text)  # gagasan kegiatan
    musyawarah_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("musyawarah.id"), default=None)
    pengkajian_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pengkajian.id"), default=None)
    bidang_code: Mapped[str | None] = mapped_column(String(8), ForeignKey("bidang.code"), default=None)
    sub_bidang_code: Mapped[str | None] = mapped_column(String(8), ForeignKey("bidang.code"), default=None)
    kode_kegiatan: Mapped[str] = mapped_column(String(20), default="")
    lokasi: Mapped[str] = mapped_column(Text, default="")
    dusun_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dusun.id"), default=None, index=True)
    volume: Mapped[float | None] = mapped_column(Float, default=None)
    satuan: Mapped[str] = mapped_column(String(30), default="")
    penerima_laki: Mapped[int | None] = mapped_column(Integer, default=None)
    penerima_perempuan: Mapped[int | None] = mapped_column(Integer, default=None)
    penerima_artm: Mapped[int | None] = mapped_column(Integer, default=None)  # rumah tangga miskin
    biaya: Mapped[int | None] = mapped_column(BigInteger, default=None)  # whole rupiah
    sumber_dana: Mapped[SumberDana | None] = mapped_column(checked(SumberDana, "sumber_dana"), default=None)
    pola_pelaksanaan: Mapped[PolaPelaksanaan | None] = mapped_column(
        checked(PolaPelaksanaan, "pola_pelaksanaan"), default=None
    )
    sdgs_desa: Mapped[int | None] = mapped_column(Integer, default=None)  # goal 1–18
    skor_dirasakan: Mapped[int | None] = mapped_column(Integer, default=None)
    skor_parah: Mapped[int | None] = mapped_column(Integer, default=None)
    skor_pendapatan: Mapped[int | None] = mapped_column(Integer, default=None)
    skor_sering: Mapped[int | None] = mapped_column(Integer, default=None)
    skor_potensi: Mapped[int | None] = mapped_column(Integer, default=None)
    skor_total: Mapped[int | None] = mapped_column(Integer, default=None)
    catatan: Mapped[str] = mapped_column(Text, default="")
