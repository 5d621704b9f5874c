"""The SQL of the exports. Every query is filtered twice: by the one desa asked for, and by the caller's
scope prefix (``Principal.scope_filter``), so a mistake in one filter cannot leak another kecamatan."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.errors import KaderError
from server.models import Bidang, Dusun, Kehadiran, Musyawarah, Pengkajian, Usulan, Wilayah
from sync.ranking import ranks
from sync.records import SCORE_FIELDS
from sync.vocabulary import JenisKelamin, JenisPengkajian, ReviewState


@dataclass(frozen=True, slots=True)
class DesaInfo:
    code: str
    name: str
    kind: str
    kecamatan: str
    kabupaten: str


@dataclass(frozen=True, slots=True)
class GagasanRow:
    peringkat: int | None
    kegiatan: str
    bidang_code: str | None
    sub_bidang_code: str | None
    lokasi: str
    dusun: str | None
    volume: float | None
    satuan: str
    penerima_laki: int | None
    penerima_perempuan: int | None
    penerima_artm: int | None
    biaya: int | None
    sumber_dana: str | None
    pola_pelaksanaan: str | None
    skor_total: int | None
    review_state: str


@dataclass(frozen=True, slots=True)
class PengkajianCount:
    dusun_id: uuid.UUID | None
    dusun: str | None
    bidang_code: str | None
    jenis: str
    jumlah: int


@dataclass(frozen=True, slots=True)
class MasalahRow:
    peringkat: int | None
    uraian: str
    penyebab: str
    potensi_tersedia: str
    usulan_tindakan: str
    bidang_code: str | None
    dusun: str | None
    kelompok_sumber: str
    skor: tuple[int | None, int | None, int | None, int | None, int | None]
    skor_total: int | None
    review_state: str


@dataclass(frozen=True, slots=True)
class MusyawarahRow:
    jenis: str
    kelompok: str
    tanggal: dt.date
    tempat: str
    dusun: str | None
    hadir_l: int
    hadir_p: int
    review_state: str


async def desa_info(db: AsyncSession, who: Principal, code: str) -> DesaInfo:
    """The desa with its kecamatan and kabupaten names; 404 when outside the caller's scope or unknown."""
    who.require_covers(code)
    kec, kab = Wilayah.__table__.alias("kec"), Wilayah.__table__.alias("kab")
    row = (await db.execute(
        select(Wilayah.code, Wilayah.name, Wilayah.kind, kec.c.name, kab.c.name)
        .outerjoin(kec, kec.c.code == Wilayah.parent_code)
        .outerjoin(kab, kab.c.code == kec.c.parent_code)
        .where(Wilayah.code == code, Wilayah.level == 4, who.scope_filter(Wilayah.code))
    )).first()
    if row is None:
        raise KaderError("not_found", f"Desa {code} tidak ditemukan dalam cakupan akun ini.")
    return DesaInfo(row[0], row[1], str(row[2]), row[3] or "", row[4] or "")


async def desa_list(db: AsyncSession, who: Principal) -> list[tuple[str, str]]:
    """(code, name) of every desa and kelurahan within the caller's scope, in code order."""
    rows = await db.execute(select(Wilayah.code, Wilayah.name).where(Wilayah.level == 4, who.scope_filter(Wilayah.code))
                            .order_by(Wilayah.code))
    return list(rows.tuples().all())


async def bidang_names(db: AsyncSession) -> dict[str, str]:
    return dict((await db.execute(select(Bidang.code, Bidang.nama))).tuples().all())


def _listed(model: type[Usulan] | type[Pengkajian] | type[Musyawarah], who: Principal, desa_code: str) -> list:
    """What an export lists: this desa's live records, without the rejected ones (ditolak)."""
    return [model.desa_code == desa_code, who.scope_filter(model.desa_code), model.deleted_at.is_(None),
            model.review_state != ReviewState.ditolak]


def _by_score(model: type[Usulan] | type[Pengkajian]) -> list:
    # Highest total first, so the computed ranks come out in order; unscored (unranked) last, oldest first.
    return [model.skor_total.desc().nulls_last(), model.created_at, model.id]


def _ranks(table: str, rows: list) -> list[int | None]:
    """Peringkat by the one rule (sync/ranking.py) over the listed records, which are exactly the ones
    it ranks together: one desa (and one jenis of pengkajian), neither deleted nor rejected."""
    return ranks(table, [r._mapping for r in rows])


async def daftar_gagasan(db: AsyncSession, who: Principal, desa_code: str) -> list[GagasanRow]:
    u = Usulan
    rows = await db.execute(
        select(u.desa_code, u.deleted_at, u.kegiatan, u.bidang_code, u.sub_bidang_code, u.lokasi, Dusun.nama,
               Dusun.sebutan, u.volume, u.satuan, u.penerima_laki, u.penerima_perempuan, u.penerima_artm, u.biaya,
               u.sumber_dana, u.pola_pelaksanaan, u.skor_total, u.review_state)
        .outerjoin(Dusun, Dusun.id == u.dusun_id)
        .where(*_listed(u, who, desa_code))
        .order_by(*_by_score(u))
    )
    rows = list(rows)
    return [GagasanRow(
        peringkat=rank, kegiatan=r.kegiatan, bidang_code=r.bidang_code, sub_bidang_code=r.sub_bidang_code,
        lokasi=r.lokasi, dusun=dusun_name(r.nama, r.sebutan), volume=r.volume, satuan=r.satuan,
        penerima_laki=r.penerima_laki, penerima_perempuan=r.penerima_perempuan, penerima_artm=r.penerima_artm,
        biaya=r.biaya, sumber_dana=_text(r.sumber_dana), pola_pelaksanaan=_text(r.pola_pelaksanaan),
        skor_total=r.skor_total, review_state=str(r.review_state),
    ) for r, rank in zip(rows, _ranks("usulan", rows), strict=True)]


async def pengkajian_counts(db: AsyncSession, who: Principal, desa_code: str) -> list[PengkajianCount]:
    """Masalah, potensi and kebutuhan items per dusun × bidang (as stored: bidang or sub-bidang code)."""
    rows = await db.execute(
        select(Pengkajian.dusun_id, Dusun.nama, Dusun.sebutan, Pengkajian.bidang_code, Pengkajian.jenis, func.count())
        .outerjoin(Dusun, Dusun.id == Pengkajian.dusun_id)
        .where(*_listed(Pengkajian, who, desa_code))
        .group_by(Pengkajian.dusun_id, Dusun.nama, Dusun.sebutan, Pengkajian.bidang_code, Pengkajian.jenis)
    )
    return [PengkajianCount(d, dusun_name(n, s), b, str(j), c) for d, n, s, b, j, c in rows]


async def peringkat_masalah(db: AsyncSession, who: Principal, desa_code: str) -> list[MasalahRow]:
    p = Pengkajian
    rows = await db.execute(
        select(p.desa_code, p.deleted_at, p.jenis, p.uraian, p.penyebab, p.potensi_tersedia, p.usulan_tindakan,
               p.bidang_code, Dusun.nama, Dusun.sebutan, p.kelompok_sumber,
               *(getattr(p, f) for f in SCORE_FIELDS), p.skor_total, p.review_state)
        .outerjoin(Dusun, Dusun.id == p.dusun_id)
        .where(*_listed(p, who, desa_code), p.jenis == JenisPengkajian.masalah)
        .order_by(*_by_score(p))
    )
    rows = list(rows)
    return [MasalahRow(
        peringkat=rank, uraian=r.uraian, penyebab=r.penyebab, potensi_tersedia=r.potensi_tersedia,
        usulan_tindakan=r.usulan_tindakan, bidang_code=r.bidang_code, dusun=dusun_name(r.nama, r.sebutan),
        kelompok_sumber=r.kelompok_sumber,
        skor=tuple(getattr(r, f) for f in SCORE_FIELDS),  # type: ignore[arg-type]
        skor_total=r.skor_total, review_state=str(r.review_state),
    ) for r, rank in zip(rows, _ranks("pengkajian", rows), strict=True)]


async def rekap_musyawarah(db: AsyncSession, who: Principal, desa_code: str) -> list[MusyawarahRow]:
    hadir = (
        select(Kehadiran.musyawarah_id,
               func.sum(case((Kehadiran.jenis_kelamin == JenisKelamin.L, 1), else_=0)).label("l"),
               func.sum(case((Kehadiran.jenis_kelamin == JenisKelamin.P, 1), else_=0)).label("p"))
        .where(Kehadiran.desa_code == desa_code, who.scope_filter(Kehadiran.desa_code),
               Kehadiran.deleted_at.is_(None))
        .group_by(Kehadiran.musyawarah_id)
        .subquery()
    )
    m = Musyawarah
    rows = await db.execute(
        select(m.jenis, m.kelompok, m.tanggal, m.tempat, Dusun.nama, Dusun.sebutan, hadir.c.l, hadir.c.p,
               m.review_state)
        .outerjoin(Dusun, Dusun.id == m.dusun_id)
        .outerjoin(hadir, hadir.c.musyawarah_id == m.id)
        .where(*_listed(m, who, desa_code))
        .order_by(m.tanggal, m.jam_mulai.asc().nulls_last(), m.created_at, m.id)
    )
    return [MusyawarahRow(str(jenis), kelompok, tanggal, tempat, dusun_name(nama, sebutan), int(laki or 0),
                          int(perempuan or 0), str(state))
            for jenis, kelompok, tanggal, tempat, nama, sebutan, laki, perempuan, state in rows]


def dusun_name(nama: str | None, sebutan: str | None) -> str | None:
    """"Banjar Dinas Kaja Kangin": the desa's own word for its dusun before the name, unless already there."""
    if nama is None:
        return None
    if not sebutan or nama.casefold().startswith(sebutan.casefold()):
        return nama
    return f"{sebutan} {nama}"


def _text(value: object) -> str | None:
    return None if value is None else str(value)
