"""Model round-trips on both databases: UUIDs, timestamps with offsets, JSON, dates and checked enums."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Dusun, Kader, Kehadiran, Musyawarah, Pengkajian, Usulan
from server.models.enums import JenisKelamin, JenisMusyawarah, JenisPengkajian, ReviewState, SumberDana, Unsur
from tests.conftest import DESA_GANRA, Store

WITA = dt.timezone(dt.timedelta(hours=8))


def test_uuid_and_offset_timestamps_round_trip_as_the_same_values(store: Store) -> None:
    rid = uuid.uuid4()
    at = dt.datetime(2026, 7, 14, 9, 30, 15, 123456, tzinfo=WITA)

    async def write(s: AsyncSession) -> None:
        s.add(Dusun(id=rid, desa_code=DESA_GANRA, nama="Dusun Lappae", created_at=at, updated_at=at))

    store.run(write)
    back = store.run(lambda s: s.get(Dusun, rid))
    assert back.id == rid and isinstance(back.id, uuid.UUID)
    assert back.created_at == at and back.created_at.utcoffset() == dt.timedelta(0)
    assert back.version == 1 and back.change_seq == 0 and back.deleted_at is None


def test_storage_format_is_dashed_uuid_and_utc_instant(store: Store) -> None:
    """SQLite: the dashed text and UTC text Piccolo reads; PostgreSQL: native uuid and timestamptz."""
    rid = uuid.uuid4()
    at = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=WITA)
    store.run(lambda s: _add(s, Dusun(id=rid, desa_code=DESA_GANRA, nama="Dusun X", created_at=at, updated_at=at)))
    if store.url.startswith("sqlite"):
        raw = store.rows("SELECT id, created_at FROM dusun WHERE id = :i", i=str(rid))[0]
        assert tuple(raw) == (str(rid), "2026-01-01 19:04:05+00:00")
    else:
        raw = store.rows("SELECT id::text, created_at AT TIME ZONE 'UTC', pg_typeof(id)::text, "
                         "pg_typeof(created_at)::text FROM dusun WHERE id = :i", i=rid)[0]
        assert tuple(raw) == (str(rid), dt.datetime(2026, 1, 1, 19, 4, 5), "uuid", "timestamp with time zone")


async def _add(s: AsyncSession, row: object) -> None:
    s.add(row)


def test_time_ordering_survives_storage(store: Store) -> None:
    desa = DESA_GANRA
    base = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    stamps = [base + dt.timedelta(microseconds=m) for m in (0, 1, 500000)]
    stamps.append(base.astimezone(WITA) - dt.timedelta(seconds=1))
    ids = [uuid.uuid4() for _ in stamps]

    async def write(s: AsyncSession) -> None:
        for i, at in zip(ids, stamps, strict=True):
            s.add(Dusun(id=i, desa_code=desa, nama=f"Urut {at.isoformat()}", created_at=at, updated_at=at))

    store.run(write)
    ordered = store.run(lambda s: _ids_by_time(s, ids))
    assert ordered == [i for _, i in sorted(zip(stamps, ids, strict=True))]


async def _ids_by_time(s: AsyncSession, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    return list(await s.scalars(select(Dusun.id).where(Dusun.id.in_(ids)).order_by(Dusun.created_at)))


def test_json_lists_dates_and_enums_round_trip(store: Store) -> None:
    kid, mid, hid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    async def write(s: AsyncSession) -> None:
        s.add(Kader(id=kid, desa_code=DESA_GANRA, nama="Andi Rahmawati", jenis_kelamin=JenisKelamin.P,
                    no_sk="34/KPTS/DGR/VII/2020", tanggal_sk=dt.date(2020, 7, 1),
                    peran=["pemberdayaan masyarakat", "posyandu"], pelatihan=["Pelatihan KPM 2021"]))
        s.add(Musyawarah(id=mid, desa_code=DESA_GANRA, jenis=JenisMusyawarah.dusun, tanggal=dt.date(2026, 2, 10),
                         jam_mulai=dt.time(9, 0), keputusan=["Drainase jadi prioritas 1", "Sumur bor prioritas 2"],
                         narasumber=[{"nama": "Pak Camat", "unsur": "pemerintah"}]))
        await s.flush()
        s.add(Kehadiran(id=hid, desa_code=DESA_GANRA, musyawarah_id=mid, nama="Hasnah", jenis_kelamin="P",
                        unsur=Unsur.perempuan))

    store.run(write)
    kader = store.run(lambda s: s.get(Kader, kid))
    assert kader.peran == ["pemberdayaan masyarakat", "posyandu"] and kader.tanggal_sk == dt.date(2020, 7, 1)
    musy = store.run(lambda s: s.get(Musyawarah, mid))
    assert musy.keputusan[0] == "Drainase jadi prioritas 1"
    assert musy.narasumber == [{"nama": "Pak Camat", "unsur": "pemerintah"}]
    assert musy.jam_mulai == dt.time(9, 0) and musy.review_state == ReviewState.diajukan
    hadir = store.run(lambda s: s.get(Kehadiran, hid))
    assert hadir.unsur == Unsur.perempuan and hadir.jenis_kelamin == JenisKelamin.P


def test_an_usulan_links_to_its_musyawarah_and_problem(store: Store) -> None:
    mid, pid, uid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    async def write(s: AsyncSession) -> None:
        s.add(Musyawarah(id=mid, desa_code=DESA_GANRA, jenis=JenisMusyawarah.dusun, tanggal=dt.date(2026, 2, 10)))
        s.add(Pengkajian(id=pid, desa_code=DESA_GANRA, jenis=JenisPengkajian.masalah, bidang_code="2",
                         uraian="Jalan dusun tergenang saat hujan", skor_dirasakan=5, skor_total=21))
        await s.flush()
        s.add(Usulan(id=uid, desa_code=DESA_GANRA, kegiatan="Pembangunan drainase jalan dusun", musyawarah_id=mid,
                     pengkajian_id=pid, bidang_code="2", sub_bidang_code="2.3", volume=250, satuan="m",
                     penerima_laki=96, penerima_perempuan=104, penerima_artm=21, biaya=87_500_000,
                     sumber_dana=SumberDana.dds, skor_total=21))

    store.run(write)
    usulan = store.run(lambda s: s.get(Usulan, uid))
    assert (usulan.musyawarah_id, usulan.pengkajian_id, usulan.biaya) == (mid, pid, 87_500_000)
    assert usulan.sumber_dana == SumberDana.dds


def test_values_outside_a_vocabulary_are_refused(store: Store) -> None:
    async def write(s: AsyncSession) -> None:
        s.add(Pengkajian(id=uuid.uuid4(), desa_code=DESA_GANRA, jenis="keluhan", uraian="x"))

    with pytest.raises(StatementError):
        store.run(write)


def test_a_row_needs_an_existing_desa(store: Store) -> None:
    with pytest.raises(IntegrityError):
        store.run(lambda s: _add(s, Dusun(id=uuid.uuid4(), desa_code="99.99.99.9999", nama="Dusun Hantu")))


def test_naive_timestamps_are_refused_rather_than_guessed(store: Store) -> None:
    naive = dt.datetime(2026, 1, 1, 8, 0)
    with pytest.raises(StatementError, match="naive"):
        store.run(lambda s: _add(s, Dusun(id=uuid.uuid4(), desa_code=DESA_GANRA, nama="D", created_at=naive)))
