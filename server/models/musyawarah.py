"""Musyawarah (deliberations) and their attendance lists."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, Date, ForeignKey, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, SyncedRow
from server.models.enums import JenisKelamin, JenisMusyawarah, Unsur, checked
from server.models.review import Reviewable


class Musyawarah(SyncedRow, Reviewable, Base):
    __tablename__ = "musyawarah"

    jenis: Mapped[JenisMusyawarah] = mapped_column(checked(JenisMusyawarah, "jenis_musyawarah"))
    kelompok: Mapped[str] = mapped_column(String(80), default="")  # for musyawarah kelompok: perempuan…
    tanggal: Mapped[dt.date] = mapped_column(Date)
    jam_mulai: Mapped[dt.time | None] = mapped_column(Time, default=None)
    jam_selesai: Mapped[dt.time | None] = mapped_column(Time, default=None)
    tempat: Mapped[str] = mapped_column(String(200), default="")
    dusun_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dusun.id"), default=None, index=True)
    pimpinan: Mapped[str] = mapped_column(String(120), default="")
    pimpinan_unsur: Mapped[str] = mapped_column(String(60), default="")
    notulis: Mapped[str] = mapped_column(String(120), default="")
    narasumber: Mapped[list[dict]] = mapped_column(JSON, default=list)  # [{nama, unsur}]
    agenda: Mapped[str] = mapped_column(Text, default="")
    notulen: Mapped[str] = mapped_column(Text, default="")
    keputusan: Mapped[list[str]] = mapped_column(JSON, default=list)
    foto: Mapped[list[str]] = mapped_column(JSON, default=list)  # SHA-256 names of attachments


class Kehadiran(SyncedRow, Base):
    """One line of a daftar hadir. Lines are rows of their own so offline additions merge by union."""

    __tablename__ = "kehadiran"

    musyawarah_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("musyawarah.id"), index=True)
    nama: Mapped[str] = mapped_column(String(120), default="")  # "" for a line counted without a name
    jenis_kelamin: Mapped[JenisKelamin] = mapped_column(checked(JenisKelamin, "jenis_kelamin"))
    unsur: Mapped[Unsur] = mapped_column(checked(Unsur, "unsur"), default=Unsur.lainnya)
    dusun_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dusun.id"), default=None)
