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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.passwords import generate_password
from server.auth.service import create_user
from server.db.types import utcnow
from server.models import Dusun, Kader, Kehadiran, Musyawarah, Pengkajian, User, Usulan
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
from sync.engine.writer import Actor, Writer

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


@dataclass
class _Writer:
    """Adds synced rows with the identity, ownership and timestamps a phone's push would give them,
    recorded through the sync engine's write path (history, change numbers) so phones pull them."""

    session: AsyncSession
    writer: Writer
    rows: list[SyncedRow] = field(default_factory=list)

    def add(self, model: type[Row], desa: str, by: User, at: dt.datetime, **fields: Any) -> Row:
        row = model(id=uuid7(at), desa_code=desa, created_by=by.id, updated_by=by.id, created_at=at,
                    updated_at=at, version=1, **fields)
        self.session.add(row)
        self.rows.append(row)
        return row

    async def finish(self) -> None:
        await self.session.flush()  # column defaults are filled in by now, so history shows them
        for row in self.rows:
            self.writer.adopt(row)
        await self.writer.finish()


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
    admin = users["admin.gerokgak"]
    write = _Writer(session, Writer(session, Actor(user_id=admin.id, role=admin.role, scope=admin.wilayah_code,
                                                   via="demo")))
    now = utcnow().replace(microsecond=0)
    dusun = _dusun(write, users, now - dt.timedelta(days=60))
    await session.flush()
    _team_ganra(write, users["kader.ganra"], now - dt.timedelta(days=45))
    _team_gerokgak(write, users["kader.gerokgak"], now - dt.timedelta(days=45))
    await session.flush()
    await _records_ganra(session, write, users["kader.ganra"], dusun[DESA_GANRA], now - dt.timedelta(days=21))
    _records_gerokgak(write, users["kader.gerokgak"], dusun[DESA_GEROKGAK], now - dt.timedelta(days=14))
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


def _dusun(write: _Writer, users: dict[str, User], at: dt.datetime) -> dict[str, dict[str, Dusun]]:
    """A few dusun per demo desa; Pejarakan has no cadre account, so its dusun are the admin's."""
    owner = {DESA_GEROKGAK: users["kader.gerokgak"], DESA_PEJARAKAN: users["admin.gerokgak"],
             DESA_GANRA: users["kader.ganra"]}
    made: dict[str, dict[str, Dusun]] = {}
    for desa, (sebutan, names) in DUSUN.items():
        made[desa] = {n: write.add(Dusun, desa, owner[desa], at, nama=n, sebutan=sebutan) for n in names}
    return made


def _team_ganra(write: _Writer, by: User, at: dt.datetime) -> None:
    """The KPM of Desa Ganra under SK 34/KPTS/DGR/VII/2020: a Ketua (S1) and two Anggota (SLTP, SLTA)."""
    common = {"no_sk": "34/KPTS/DGR/VII/2020", "tanggal_sk": dt.date(2020, 7, 15), "periode": "2020-2026",
              "pelatihan": ["Pelatihan KPM Kabupaten Soppeng 2021"]}
    write.add(Kader, DESA_GANRA, by, at, nama="Andi Nurhayati", jenis_kelamin=JenisKelamin.P,
              tanggal_lahir=dt.date(1988, 3, 12), pendidikan=Pendidikan.s1, jabatan=Jabatan.ketua,
              bidang_tugas="Koordinasi perencanaan dan pemberdayaan", user_id=by.id,
              peran=["pemberdayaan masyarakat", "pembangunan manusia"], alamat="Dusun Ganra", **common)
    write.add(Kader, DESA_GANRA, by, at, nama="Muhammad Arsyad", jenis_kelamin=JenisKelamin.L,
              tanggal_lahir=dt.date(1979, 11, 2), pendidikan=Pendidikan.sltp, jabatan=Jabatan.anggota,
              bidang_tugas="Infrastruktur dan pertanian", peran=["pemberdayaan masyarakat"],
              alamat="Dusun Lapajung", **common)
    write.add(Kader, DESA_GANRA, by, at, nama="Sitti Rahmawati", jenis_kelamin=JenisKelamin.P,
              tanggal_lahir=dt.date(1995, 6, 27), pendidikan=Pendidikan.slta, jabatan=Jabatan.anggota,
              bidang_tugas="Kesehatan dan posyandu", peran=["pemberdayaan masyarakat", "posyandu"],
              alamat="Dusun Salo Karaja", **common)


def _team_gerokgak(write: _Writer, by: User, at: dt.datetime) -> None:
    common = {"no_sk": "141/12/KPTS/GRK/2021", "tanggal_sk": dt.date(2021, 3, 8), "periode": "2021-2027"}
    write.add(Kader, DESA_GEROKGAK, by, at, nama="Ni Luh Putu Sriani", jenis_kelamin=JenisKelamin.P,
              pendidikan=Pendidikan.d3, jabatan=Jabatan.ketua, bidang_tugas="Koordinasi perencanaan",
              peran=["pemberdayaan masyarakat"], user_id=by.id, alamat="Banjar Dinas Kaja Kangin", **common)
    write.add(Kader, DESA_GEROKGAK, by, at, nama="Kadek Surya Wibawa", jenis_kelamin=JenisKelamin.L,
              pendidikan=Pendidikan.slta, jabatan=Jabatan.sekretaris, bidang_tugas="Pendataan",
              peran=["pemberdayaan masyarakat"], alamat="Banjar Dinas Pasar", **common)
    write.add(Kader, DESA_GEROKGAK, by, at, nama="Ni Komang Ayu Lestari", jenis_kelamin=JenisKelamin.P,
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


def _scored(skor: tuple[int, int, int, int, int] | None) -> dict[str, int | None]:
    """The five criteria as columns, with their total (the rank is computed when shown: sync/ranking.py)."""
    if skor is None:
        return {}
    names = ("skor_dirasakan", "skor_parah", "skor_pendapatan", "skor_sering", "skor_potensi")
    return {**dict(zip(names, skor, strict=True)), "skor_total": sum(skor)}


async def _records_ganra(session: AsyncSession, write: _Writer, by: User, dusun: dict[str, Dusun],
                         at: dt.datetime) -> None:
    """Pengkajian, a musyawarah dusun with its daftar hadir, and the ranked usulan of Desa Ganra."""
    items = [write.add(Pengkajian, DESA_GANRA, by, at, jenis=j, bidang_code=b, uraian=u, penyebab=p,
                       potensi_tersedia=pt, usulan_tindakan=ut, dusun_id=dusun[d].id, kelompok_sumber=k,
                       lokasi=f"Dusun {d}", **_scored(s))
             for j, b, u, p, pt, ut, d, k, s in PENGKAJIAN_GANRA]
    masalah = [i for i in items if i.jenis == JenisPengkajian.masalah]
    rapat = _musyawarah_lapajung(write, by, dusun, at + dt.timedelta(days=7))
    await session.flush()  # no ORM relationships: parents go first so the foreign keys hold
    _daftar_hadir(write, by, rapat, dusun)
    _usulan(write, by, rapat, masalah)


def _usulan(write: _Writer, by: User, rapat: Musyawarah, masalah: list[Pengkajian]) -> None:
    """The daftar gagasan of the musyawarah, each answering a masalah, ranked by their scores."""
    at = rapat.created_at + dt.timedelta(hours=3)
    for i, fields in USULAN_GANRA:
        write.add(Usulan, DESA_GANRA, by, at, musyawarah_id=rapat.id, pengkajian_id=masalah[i].id,
                  lokasi=masalah[i].lokasi, dusun_id=masalah[i].dusun_id,
                  pola_pelaksanaan=PolaPelaksanaan.swakelola, **fields, **_scored(_skor_of(masalah[i])))


def _skor_of(item: Pengkajian) -> tuple[int, int, int, int, int]:
    skor = (item.skor_dirasakan, item.skor_parah, item.skor_pendapatan, item.skor_sering, item.skor_potensi)
    return skor  # type: ignore[return-value]


def _musyawarah_lapajung(write: _Writer, by: User, dusun: dict[str, Dusun], at: dt.datetime) -> Musyawarah:
    rapat = write.add(
        Musyawarah, DESA_GANRA, by, at, jenis=JenisMusyawarah.dusun, tanggal=at.date(),
        jam_mulai=dt.time(9, 0), jam_selesai=dt.time(11, 30), tempat="Rumah Kepala Dusun Lapajung",
        dusun_id=dusun["Lapajung"].id, pimpinan="Andi Baharuddin", pimpinan_unsur=Unsur.pemerintah_desa.value,
        notulis="Sitti Rahmawati", narasumber=[{"nama": "Andi Nurhayati", "unsur": Unsur.kpm.value}],
        agenda="Penggalian gagasan pembangunan untuk RKPDes",
        notulen=("Kader KPM memaparkan hasil pengkajian keadaan dusun. Warga membahas jalan dusun yang "
                 "tergenang, saluran irigasi, dan posyandu. Disepakati urutan prioritas berdasarkan "
                 "skoring."),
        keputusan=["Drainase jalan dusun menjadi gagasan prioritas pertama",
                   "Gagasan dibawa ke musyawarah desa perencanaan"],
    )
    return rapat


def _daftar_hadir(write: _Writer, by: User, rapat: Musyawarah, dusun: dict[str, Dusun]) -> None:
    for nama, jk, unsur, d in HADIR_LAPAJUNG:
        write.add(Kehadiran, DESA_GANRA, by, rapat.created_at, musyawarah_id=rapat.id, nama=nama,
                  jenis_kelamin=JenisKelamin(jk), unsur=unsur, dusun_id=dusun[d].id)


def _records_gerokgak(write: _Writer, by: User, dusun: dict[str, Dusun], at: dt.datetime) -> None:
    """Two scored masalah from Desa Gerokgak, so the kecamatan admin has something to review there too."""
    write.add(Pengkajian, DESA_GEROKGAK, by, at, jenis=JenisPengkajian.masalah, bidang_code="2.4",
              uraian="Air bersih sulit didapat saat kemarau",
              penyebab="Sumur warga kering; pipa belum sampai",
              potensi_tersedia="Mata air di perbukitan", usulan_tindakan="Perpipaan air bersih",
              dusun_id=dusun["Kaja Kangin"].id, kelompok_sumber="kelompok perempuan",
              lokasi="Banjar Dinas Kaja Kangin", **_scored((5, 5, 3, 4, 3)))
    write.add(Pengkajian, DESA_GEROKGAK, by, at, jenis=JenisPengkajian.masalah, bidang_code="4.1",
              uraian="Hasil tangkapan nelayan menurun", penyebab="Terumbu karang rusak",
              potensi_tersedia="Kelompok nelayan dan pokmaswas",
              usulan_tindakan="Transplantasi terumbu karang",
              dusun_id=dusun["Kelod Kauh"].id, kelompok_sumber="nelayan",
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
