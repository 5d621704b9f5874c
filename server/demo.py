"""Demo data: two real kecamatan, their cadres and a first round of records that look like field work.

Kecamatan Gerokgak (Buleleng, Bali) and Kecamatan Ganra (Soppeng, Sulawesi Selatan) are loaded from the
Kemendagri register; the people in them are invented. Passwords are generated on every seeding and
written only to ``<data_dir>/demo-logins.txt`` (mode 0600), never fixed in code.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import uuid
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.passwords import generate_password
from server.auth.service import create_user
from server.db.types import utcnow
from server.models import User
from server.models.base import SyncedRow
from server.models.enums import (
    Jabatan,
    JenisKelamin,
    JenisMusyawarah,
    JenisPengkajian,
    Pendidikan,
    PolaPelaksanaan,
    Role,
    SumberDana,
    Unsur,
)
from server.wilayah.loader import load_wilayah
from sync.engine.push import apply_mutation
from sync.engine.writer import Actor, Writer, door_client
from sync.protocol import Create
from sync.records import SCORE_FIELDS

DEMO_FILE = "demo-logins.txt"
KEC_GEROKGAK, KEC_GANRA = "51.08.01", "73.12.07"
DESA_GEROKGAK, DESA_PEJARAKAN, DESA_GANRA = "51.08.01.2009", "51.08.01.2002", "73.12.07.2002"

Login = tuple[str, str, str, str]  # username, password, role, wilayah code
Row = TypeVar("Row", bound=SyncedRow)

# username, role, wilayah, nama (invented people)
ACCOUNTS = [
    ("kader.gerokgak", Role.kader, DESA_GEROKGAK, "Ni Luh Putu Sriani"),
    ("kader.ganra", Role.kader, DESA_GANRA, "Andi Nurhayati"),
    ("admin.gerokgak", Role.admin, KEC_GEROKGAK, "I Gede Mahendra Putra"),
    ("admin.ganra", Role.admin, KEC_GANRA, "Muhammad Ridwan Baso"),
]

# Dusun per desa; Bali calls them Banjar Dinas.
DUSUN = {
    DESA_GEROKGAK: ("Banjar Dinas", ["Kaja Kangin", "Kelod Kauh", "Tegal Sari", "Pasar"]),
    DESA_PEJARAKAN: ("Banjar Dinas", ["Batu Ampar", "Banyuwedang", "Sumber Batok", "Pejarakan"]),
    DESA_GANRA: ("Dusun", ["Ganra", "Lapajung", "Salo Karaja"]),
}


def uuid7(at: dt.datetime) -> uuid.UUID:
    """A UUID v7 (time-ordered), as phones make them, so demo ids sort like real ones."""
    ms = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    rand = secrets.randbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return uuid.UUID(int=value)


class _Door:
    """The demo's door to the sync engine: every record is a create mutation, applied as the person who
    would have made it (a cadre her records, the kecamatan admin the dusun and the KPM register) through
    ``apply_mutation``, the one write path a phone's push takes: the same checks, derived fields (score
    totals), history and change numbers, so phones pull the demo like any other data."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.writers: dict[int, Writer] = {}

    async def add(self, table: str, desa: str, by: User, at: dt.datetime, **fields: Any) -> uuid.UUID:
        writer = self.writers.get(by.id)
        if writer is None:
            actor = Actor(user_id=by.id, role=by.role, scope=by.wilayah_code, client_id=door_client("demo", by.id),
                          via="demo")
            writer = self.writers[by.id] = Writer(self.session, actor)
        record_id = uuid7(at)
        mutation = Create(mutation_id=uuid.uuid4(), seq=0, table=table, record_id=record_id,
                          changes=msgspec.to_builtins({"desa_code": desa, **fields}))
        result = await apply_mutation(self.session, writer, mutation)
        assert result.status == "applied", result
        return record_id

    async def finish(self) -> None:
        for writer in self.writers.values():
            await writer.finish()


async def is_seeded(session: AsyncSession) -> bool:
    """True when any demo account exists: the demo is written in one transaction, so all of it does."""
    names = [a[0] for a in ACCOUNTS]
    return await session.scalar(select(User.id).where(User.username.in_(names)).limit(1)) is not None


async def seed_demo(session: AsyncSession, data_dir: Path) -> list[Login]:
    """Seed the demo once; returns its log-ins (read back from the data directory if already seeded)."""
    if await is_seeded(session):
        return read_demo_logins(data_dir)
    for kecamatan in (KEC_GEROKGAK, KEC_GANRA):
        await load_wilayah(session, kecamatan)
    logins, users = await _accounts(session)
    write = _Door(session)
    now = utcnow().replace(microsecond=0)
    dusun = await _dusun(write, users, now - dt.timedelta(days=60))
    await _team_ganra(write, users["admin.ganra"], now - dt.timedelta(days=45))
    await _team_gerokgak(write, users["admin.gerokgak"], now - dt.timedelta(days=45))
    await _records_ganra(write, users["kader.ganra"], dusun[DESA_GANRA], now - dt.timedelta(days=21))
    await _records_gerokgak(write, users["kader.gerokgak"], dusun[DESA_GEROKGAK], now - dt.timedelta(days=14))
    await write.finish()
    write_demo_logins(data_dir, logins)
    return logins


async def _accounts(session: AsyncSession) -> tuple[list[Login], dict[str, User]]:
    logins: list[Login] = []
    users: dict[str, User] = {}
    for username, role, wilayah, nama in ACCOUNTS:
        password = generate_password()
        users[username] = await create_user(session, username, password, role, wilayah, nama=nama)
        logins.append((username, password, role.value, wilayah))
    return logins, users


async def _dusun(write: _Door, users: dict[str, User], at: dt.datetime) -> dict[str, dict[str, uuid.UUID]]:
    """A few dusun per demo desa, defined by the kecamatan admin (cadres read dusun, they do not write them)."""
    owner = {DESA_GEROKGAK: users["admin.gerokgak"], DESA_PEJARAKAN: users["admin.gerokgak"],
             DESA_GANRA: users["admin.ganra"]}
    made: dict[str, dict[str, uuid.UUID]] = {}
    for desa, (sebutan, names) in DUSUN.items():
        made[desa] = {n: await write.add("dusun", desa, owner[desa], at, nama=n, sebutan=sebutan) for n in names}
    return made


async def _team_ganra(write: _Door, by: User, at: dt.datetime) -> None:
    """The KPM of Desa Ganra under SK 34/KPTS/DGR/VII/2020: a Ketua (S1) and two Anggota (SLTP, SLTA)."""
    common = {"no_sk": "34/KPTS/DGR/VII/2020", "tanggal_sk": dt.date(2020, 7, 15), "periode": "2020-2026",
              "pelatihan": ["Pelatihan KPM Kabupaten Soppeng 2021"]}
    await write.add("kader", DESA_GANRA, by, at, nama="Andi Nurhayati", jenis_kelamin=JenisKelamin.P,
                    tanggal_lahir=dt.date(1988, 3, 12), pendidikan=Pendidikan.s1, jabatan=Jabatan.ketua,
                    bidang_tugas="Koordinasi perencanaan dan pemberdayaan",
                    peran=["pemberdayaan masyarakat", "pembangunan manusia"], alamat="Dusun Ganra", **common)
    await write.add("kader", DESA_GANRA, by, at, nama="Muhammad Arsyad", jenis_kelamin=JenisKelamin.L,
                    tanggal_lahir=dt.date(1979, 11, 2), pendidikan=Pendidikan.sltp, jabatan=Jabatan.anggota,
                    bidang_tugas="Infrastruktur dan pertanian", peran=["pemberdayaan masyarakat"],
                    alamat="Dusun Lapajung", **common)
    await write.add("kader", DESA_GANRA, by, at, nama="Sitti Rahmawati", jenis_kelamin=JenisKelamin.P,
                    tanggal_lahir=dt.date(1995, 6, 27), pendidikan=Pendidikan.slta, jabatan=Jabatan.anggota,
                    bidang_tugas="Kesehatan dan posyandu", peran=["pemberdayaan masyarakat", "posyandu"],
                    alamat="Dusun Salo Karaja", **common)


async def _team_gerokgak(write: _Door, by: User, at: dt.datetime) -> None:
    common = {"no_sk": "141/12/KPTS/GRK/2021", "tanggal_sk": dt.date(2021, 3, 8), "periode": "2021-2027"}
    await write.add("kader", DESA_GEROKGAK, by, at, nama="Ni Luh Putu Sriani", jenis_kelamin=JenisKelamin.P,
                    pendidikan=Pendidikan.d3, jabatan=Jabatan.ketua, bidang_tugas="Koordinasi perencanaan",
                    peran=["pemberdayaan masyarakat"], alamat="Banjar Dinas Kaja Kangin", **common)
    await write.add("kader", DESA_GEROKGAK, by, at, nama="Kadek Surya Wibawa", jenis_kelamin=JenisKelamin.L,
                    pendidikan=Pendidikan.slta, jabatan=Jabatan.sekretaris, bidang_tugas="Pendataan",
                    peran=["pemberdayaan masyarakat"], alamat="Banjar Dinas Pasar", **common)
    await write.add("kader", DESA_GEROKGAK, by, at, nama="Ni Komang Ayu Lestari", jenis_kelamin=JenisKelamin.P,
                    pendidikan=Pendidikan.slta, jabatan=Jabatan.anggota, bidang_tugas="Kesehatan ibu dan anak",
                    peran=["pembangunan manusia", "posyandu"], alamat="Banjar Dinas Tegal Sari", **common)


# jenis, bidang, uraian, penyebab, potensi tersedia, usulan tindakan, dusun, kelompok sumber, skor (5)
PENGKAJIAN_GANRA = [
    (JenisPengkajian.masalah, "2.3", "Jalan dusun tergenang dan rusak setiap musim hujan",
     "Tidak ada saluran drainase di kiri-kanan jalan; tanah liat menahan air",
     "Warga siap bergotong royong; batu kali dan pasir tersedia di Salo Karaja",
     "Pembangunan drainase jalan dusun", "Lapajung", "musyawarah dusun", (5, 4, 3, 5, 4)),
    (JenisPengkajian.masalah, "4.2", "Sawah tadah hujan kekurangan air pada musim tanam kedua",
     "Saluran irigasi tersier rusak dan dangkal", "Kelompok tani Sipakainge aktif",
     "Rehabilitasi saluran irigasi tersier", "Salo Karaja", "kelompok tani", (4, 3, 5, 3, 3)),
    (JenisPengkajian.masalah, "2.2", "Banyak balita tidak rutin ditimbang di posyandu",
     "Jadwal posyandu bentrok dengan musim panen; alat timbang kurang", "Kader posyandu ada di tiap dusun",
     "Penambahan alat timbang dan jadwal posyandu sore", "Ganra", "kelompok perempuan", (4, 3, 2, 4, 3)),
    (JenisPengkajian.potensi, "4.2", "Lahan sawah luas dan kelompok tani yang aktif", "",
     "Tiga kelompok tani terdaftar", "", "Salo Karaja", "kelompok tani", None),
    (JenisPengkajian.kebutuhan, "4.4", "Pelatihan pengolahan hasil panen untuk kelompok perempuan", "",
     "Ibu-ibu PKK sudah membuat kue beras", "Pelatihan dan peralatan pengolahan", "Ganra",
     "kelompok perempuan", None),
]

# nama, jenis kelamin, unsur, dusun (the daftar hadir of the musyawarah dusun in Lapajung)
HADIR_LAPAJUNG = [
    ("Andi Baharuddin", "L", Unsur.pemerintah_desa, "Lapajung"),
    ("Hj. Sitti Aminah", "P", Unsur.bpd, "Lapajung"),
    ("La Tahang", "L", Unsur.tokoh_masyarakat, "Lapajung"),
    ("Ustaz Abdul Rahman", "L", Unsur.tokoh_agama, "Ganra"),
    ("Nurlina", "P", Unsur.perempuan, "Lapajung"),
    ("Hasnah", "P", Unsur.masyarakat_miskin, "Lapajung"),
    ("Baso Tang", "L", Unsur.kelompok_tani, "Salo Karaja"),
    ("Suriani, S.Pd.", "P", Unsur.tokoh_pendidik, "Lapajung"),
    ("Muhammad Arsyad", "L", Unsur.kpm, "Lapajung"),
    ("Sitti Rahmawati", "P", Unsur.kpm, "Salo Karaja"),
    ("Fitriani", "P", Unsur.pemerhati_anak, "Ganra"),
]

# (index of the masalah it answers, its fields): the usulan carries that masalah's scores
USULAN_GANRA: list[tuple[int, dict[str, Any]]] = [
    (0, {"kegiatan": "Pembangunan drainase jalan dusun", "bidang_code": "2", "sub_bidang_code": "2.3",
         "volume": 250, "satuan": "m", "penerima_laki": 96, "penerima_perempuan": 104, "penerima_artm": 21,
         "biaya": 87_500_000, "sumber_dana": SumberDana.dds}),
    (1, {"kegiatan": "Rehabilitasi saluran irigasi tersier", "bidang_code": "2", "sub_bidang_code": "2.3",
         "volume": 400, "satuan": "m", "penerima_laki": 63, "penerima_perempuan": 58, "penerima_artm": 17,
         "biaya": 120_000_000, "sumber_dana": SumberDana.dds}),
    (2, {"kegiatan": "Penambahan alat timbang dan jadwal posyandu sore", "bidang_code": "2",
         "sub_bidang_code": "2.2", "volume": 3, "satuan": "paket", "penerima_laki": 40,
         "penerima_perempuan": 85, "penerima_artm": 12, "biaya": 9_750_000, "sumber_dana": SumberDana.add}),
]


def _scored(skor: tuple[int, int, int, int, int] | None) -> dict[str, int]:
    """The five criteria as fields (the engine derives the total, the rank is computed from it)."""
    return dict(zip(SCORE_FIELDS, skor, strict=True)) if skor else {}


async def _records_ganra(write: _Door, by: User, dusun: dict[str, uuid.UUID], at: dt.datetime) -> None:
    """Pengkajian, a musyawarah dusun with its daftar hadir, and the ranked usulan of Desa Ganra."""
    masalah: list[tuple[uuid.UUID, str, str, tuple[int, int, int, int, int]]] = []
    for j, b, u, p, pt, ut, d, k, s in PENGKAJIAN_GANRA:
        record_id = await write.add("pengkajian", DESA_GANRA, by, at, jenis=j, bidang_code=b, uraian=u, penyebab=p,
                                    potensi_tersedia=pt, usulan_tindakan=ut, dusun_id=dusun[d], kelompok_sumber=k,
                                    lokasi=f"Dusun {d}", **_scored(s))
        if j == JenisPengkajian.masalah and s:
            masalah.append((record_id, f"Dusun {d}", d, s))
    rapat_at = at + dt.timedelta(days=7)
    rapat = await _musyawarah_lapajung(write, by, dusun, rapat_at)
    await _daftar_hadir(write, by, rapat, dusun, rapat_at)
    # The daftar gagasan of the musyawarah, each answering a masalah and carrying its scores.
    for i, fields in USULAN_GANRA:
        record_id, lokasi, d, skor = masalah[i]
        await write.add("usulan", DESA_GANRA, by, rapat_at + dt.timedelta(hours=3), musyawarah_id=rapat,
                        pengkajian_id=record_id, lokasi=lokasi, dusun_id=dusun[d],
                        pola_pelaksanaan=PolaPelaksanaan.swakelola, **fields, **_scored(skor))


async def _musyawarah_lapajung(write: _Door, by: User, dusun: dict[str, uuid.UUID], at: dt.datetime) -> uuid.UUID:
    return await write.add(
        "musyawarah", DESA_GANRA, by, at, jenis=JenisMusyawarah.dusun, tanggal=at.date(),
        jam_mulai=dt.time(9, 0), jam_selesai=dt.time(11, 30), tempat="Rumah Kepala Dusun Lapajung",
        dusun_id=dusun["Lapajung"], pimpinan="Andi Baharuddin", pimpinan_unsur=Unsur.pemerintah_desa.value,
        notulis="Sitti Rahmawati", narasumber=[{"nama": "Andi Nurhayati", "unsur": Unsur.kpm.value}],
        agenda="Penggalian gagasan pembangunan untuk RKPDes",
        notulen=("Kader KPM memaparkan hasil pengkajian keadaan dusun. Warga membahas jalan dusun yang "
                 "tergenang, saluran irigasi, dan posyandu. Disepakati urutan prioritas berdasarkan "
                 "skoring."),
        keputusan=["Drainase jalan dusun menjadi gagasan prioritas pertama",
                   "Gagasan dibawa ke musyawarah desa perencanaan"],
    )


async def _daftar_hadir(write: _Door, by: User, rapat: uuid.UUID, dusun: dict[str, uuid.UUID],
                        at: dt.datetime) -> None:
    for nama, jk, unsur, d in HADIR_LAPAJUNG:
        await write.add("kehadiran", DESA_GANRA, by, at, musyawarah_id=rapat, nama=nama, jenis_kelamin=jk,
                        unsur=unsur, dusun_id=dusun[d])


async def _records_gerokgak(write: _Door, by: User, dusun: dict[str, uuid.UUID], at: dt.datetime) -> None:
    """Two scored masalah from Desa Gerokgak, so the kecamatan admin has something to review there too."""
    await write.add("pengkajian", DESA_GEROKGAK, by, at, jenis=JenisPengkajian.masalah, bidang_code="2.4",
                    uraian="Air bersih sulit didapat saat kemarau", penyebab="Sumur warga kering; pipa belum sampai",
                    potensi_tersedia="Mata air di perbukitan", usulan_tindakan="Perpipaan air bersih",
                    dusun_id=dusun["Kaja Kangin"], kelompok_sumber="kelompok perempuan",
                    lokasi="Banjar Dinas Kaja Kangin", **_scored((5, 5, 3, 4, 3)))
    await write.add("pengkajian", DESA_GEROKGAK, by, at, jenis=JenisPengkajian.masalah, bidang_code="4.1",
                    uraian="Hasil tangkapan nelayan menurun", penyebab="Terumbu karang rusak",
                    potensi_tersedia="Kelompok nelayan dan pokmaswas", usulan_tindakan="Transplantasi terumbu karang",
                    dusun_id=dusun["Kelod Kauh"], kelompok_sumber="nelayan",
                    lokasi="Pantai Banjar Dinas Kelod Kauh", **_scored((3, 3, 4, 3, 2)))


def write_demo_logins(data_dir: Path, logins: list[Login]) -> Path:
    """Write the log-ins readable by the operator only (0600), replacing any earlier file atomically."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / DEMO_FILE
    tmp = path.with_name(DEMO_FILE + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("# Kader demo log-ins: username password role wilayah\n")
        fh.writelines(" ".join(login) + "\n" for login in logins)
    os.replace(tmp, path)
    return path


def read_demo_logins(data_dir: Path) -> list[Login]:
    """The demo log-ins written at seeding, or [] when this data directory has none."""
    path = data_dir / DEMO_FILE
    if not path.exists():
        return []
    logins: list[Login] = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 4 and not line.startswith("#"):
            logins.append((parts[0], parts[1], parts[2], parts[3]))
    return logins
