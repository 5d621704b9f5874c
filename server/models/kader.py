"""The desa's register of KPM cadres (appointed by the village head's decree, SK)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, SyncedRow
from server.models.enums import Jabatan, JenisKelamin, Pendidikan, StatusKader, checked


class Kader(SyncedRow, Base):
    __tablename__ = "kader"

    nama: Mapped[str] = mapped_column(String(120))
    jenis_kelamin: Mapped[JenisKelamin] = mapped_column(checked(JenisKelamin, "jenis_kelamin"))
    tanggal_lahir: Mapped[dt.date | None] = mapped_column(Date, default=None)
    pendidikan: Mapped[Pendidikan | None] = mapped_column(checked(Pendidikan, "pendidikan"), default=None)
    jabatan: Mapped[Jabatan] = mapped_column(checked(Jabatan, "jabatan"), default=Jabatan.anggota)
    no_sk: Mapped[str] = mapped_column(String(80), default="")
    tanggal_sk: Mapped[dt.date | None] = mapped_column(Date, default=None)
    periode: Mapped[str] = mapped_column(String(20), default="")  # e.g. "2020-2026"
    bidang_tugas: Mapped[str] = mapped_column(String(160), default="")
    # Several cadre roles per person: pemberdayaan masyarakat, pembangunan manusia, posyandu…
    peran: Mapped[list[str]] = mapped_column(JSON, default=list)
    alamat: Mapped[str] = mapped_column(Text, default="")
    telepon: Mapped[str] = mapped_column(String(30), default="")
    status: Mapped[StatusKader] = mapped_column(checked(StatusKader, "status_kader"), default=StatusKader.aktif)
    pelatihan: Mapped[list[str]] = mapped_column(JSON, default=list)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
