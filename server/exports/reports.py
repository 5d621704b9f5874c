"""The exports as tables: which columns, in which order, with which Indonesian headings and totals.

Four reports per desa, each as CSV and XLSX (``REPORTS``). The XLSX of ``rekap-pengkajian`` also
carries the ranked masalah list on a second sheet, so the recap of the needs assessment is one
workbook; a CSV holds one table, so that list is also its own report, ``peringkat-masalah``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.errors import KaderError
from server.exports import queries
from server.exports.queries import DesaInfo
from server.exports.render import CONTENT_TYPES, Column, Heading, Sum, Table, file_name, render_csv, render_xlsx
from sync.vocabulary import JenisMusyawarah, JenisPengkajian

REPORTS: dict[str, str] = {
    "daftar-gagasan": "Daftar gagasan / rancangan RKPDes (usulan berperingkat)",
    "rekap-pengkajian": "Rekap pengkajian keadaan desa per dusun dan bidang",
    "peringkat-masalah": "Peringkat masalah hasil pengkajian, dengan skor",
    "rekap-musyawarah": "Rekap musyawarah dengan kehadiran laki-laki dan perempuan",
}
FORMATS = ("xlsx", "csv")

STATUS = {"draf": "Draf", "diajukan": "Diajukan", "diverifikasi": "Diverifikasi",
          "perlu_perbaikan": "Perlu perbaikan", "ditolak": "Ditolak"}
JENIS_MUSYAWARAH = {
    JenisMusyawarah.dusun: "Musyawarah dusun",
    JenisMusyawarah.kelompok: "Musyawarah kelompok",
    JenisMusyawarah.desa_perencanaan: "Musyawarah desa perencanaan",
    JenisMusyawarah.musrenbang_desa: "Musrenbang desa",
    JenisMusyawarah.desa_lainnya: "Musyawarah desa lainnya",
    JenisMusyawarah.rembuk_stunting: "Rembuk stunting",
}
POLA = {"swakelola": "Swakelola", "kerja sama antar desa": "Kerja sama antar desa",
        "kerja sama pihak ketiga": "Kerja sama pihak ketiga"}
TANPA_DUSUN = "(tingkat desa / tanpa dusun)"
TANPA_BIDANG = "(tanpa bidang)"

# Indonesia keeps no daylight saving; the zone follows the province (first two digits of the code).
WIT_PROVINCES = {"81", "82", "91", "92", "93", "94", "95", "96", "97"}
WITA_PROVINCES = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}


@dataclass(frozen=True, slots=True)
class ExportFile:
    name: str
    content_type: str
    body: bytes


def file_names() -> list[str]:
    return [f"{r}.{f}" for r in REPORTS for f in FORMATS]


def parse_file(berkas: str) -> tuple[str, str]:
    """``daftar-gagasan.xlsx`` → (report, format); an unknown one is a 404."""
    report, _, ext = berkas.rpartition(".")
    if report not in REPORTS or ext not in FORMATS:
        names = ", ".join(file_names())
        raise KaderError("not_found", f"Ekspor {berkas!r} tidak ada. Yang tersedia: {names}.")
    return report, ext


def local_now(desa_code: str, now: dt.datetime | None = None) -> dt.datetime:
    """Now in the desa's own time zone (WIB, WITA or WIT), for the export date and file name."""
    province = desa_code[:2]
    hours = 9 if province in WIT_PROVINCES else 8 if province in WITA_PROVINCES else 7
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.timezone(dt.timedelta(hours=hours)))


async def export(db: AsyncSession, who: Principal, desa_code: str, berkas: str) -> ExportFile:
    """One export of one desa for an admin of its kecamatan (403 for a cadre, 404 outside the scope)."""
    who.require_admin()
    report, ext = parse_file(berkas)
    desa = await queries.desa_info(db, who, desa_code)
    tables = await BUILDERS[report](db, who, desa)
    if report == "rekap-pengkajian" and ext == "xlsx":
        tables += await _peringkat_masalah(db, who, desa)
    now = local_now(desa.code)
    heading = Heading(_wilayah_line(desa), now)
    body = render_xlsx(tables, heading) if ext == "xlsx" else render_csv(tables[0])
    return ExportFile(file_name(report, desa.code, desa.name, now.date(), ext), CONTENT_TYPES[ext], body)


def _wilayah_line(desa: DesaInfo) -> str:
    kind = {"kelurahan": "Kelurahan", "desa_adat": "Desa Adat"}.get(desa.kind, "Desa")
    parts = [f"{kind} {desa.name}"]
    if desa.kecamatan:
        parts.append(f"Kecamatan {desa.kecamatan}")
    if desa.kabupaten:
        # The register names them "Kabupaten Buleleng", "Kota Makassar".
        known = desa.kabupaten.split(" ", 1)[0].casefold() in ("kabupaten", "kota")
        parts.append(desa.kabupaten if known else f"Kabupaten {desa.kabupaten}")
    return f"{', '.join(parts)} ({desa.code})"


def _bidang(code: str | None, names: dict[str, str]) -> str:
    if code is None:
        return ""
    return f"{code} {names[code]}" if code in names else code


def _number(value: float | None) -> int | float | None:
    """Volumes are floats on the wire; 250.0 is shown as 250."""
    return int(value) if value is not None and float(value).is_integer() else value


# --- the reports --------------------------------------------------------------------------------------


async def _daftar_gagasan(db: AsyncSession, who: Principal, desa: DesaInfo) -> list[Table]:
    names = await queries.bidang_names(db)
    rows = await queries.daftar_gagasan(db, who, desa.code)
    columns = [
        Column("No", "int", 5), Column("Peringkat", "int", 10), Column("Gagasan kegiatan", "wrap", 40),
        Column("Bidang", "wrap", 24), Column("Sub-bidang", "wrap", 28), Column("Lokasi (dusun)", "wrap", 24),
        Column("Volume", "num", 9), Column("Satuan", "text", 9),
        Column("Penerima manfaat laki-laki", "int", 11), Column("Penerima manfaat perempuan", "int", 11),
        Column("Penerima manfaat A-RTM", "int", 11), Column("Perkiraan biaya (Rp)", "rp", 18),
        Column("Sumber dana", "text", 14), Column("Pola pelaksanaan", "wrap", 16), Column("Skor total", "int", 8),
        Column("Status review", "text", 15),
    ]
    table = Table("Daftar gagasan", "DAFTAR GAGASAN / RANCANGAN RKPDes — USULAN BERPERINGKAT", columns)
    for no, u in enumerate(rows, start=1):
        table.rows.append([
            no, u.peringkat, u.kegiatan, _bidang(u.bidang_code, names), _bidang(u.sub_bidang_code, names),
            _lokasi(u.lokasi, u.dusun), _number(u.volume), u.satuan, u.penerima_laki, u.penerima_perempuan,
            u.penerima_artm, u.biaya, u.sumber_dana, POLA.get(u.pola_pelaksanaan or "", u.pola_pelaksanaan),
            u.skor_total, STATUS.get(u.review_state, u.review_state),
        ])
    table.totals = ["Jumlah", None, f"{len(rows)} usulan", None, None, None, None, None,
                    Sum(sum(u.penerima_laki or 0 for u in rows)), Sum(sum(u.penerima_perempuan or 0 for u in rows)),
                    Sum(sum(u.penerima_artm or 0 for u in rows)), Sum(sum(u.biaya or 0 for u in rows)),
                    None, None, None, None]
    return [table]


def _lokasi(lokasi: str, dusun: str | None) -> str:
    lokasi = lokasi.strip()
    if lokasi and dusun and dusun.casefold() not in lokasi.casefold():  # not "Dusun X (Dusun X)"
        return f"{lokasi} ({dusun})"
    return lokasi or dusun or ""


async def _rekap_pengkajian(db: AsyncSession, who: Principal, desa: DesaInfo) -> list[Table]:
    """Counts per dusun × bidang (sub-bidang codes counted under their bidang), dusun by name."""
    names = await queries.bidang_names(db)
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in await queries.pengkajian_counts(db, who, desa.code):
        bidang = c.bidang_code.split(".")[0] if c.bidang_code else ""
        counts[(c.dusun or "", bidang)][c.jenis] += c.jumlah
    kinds = [JenisPengkajian.masalah, JenisPengkajian.potensi, JenisPengkajian.kebutuhan]
    columns = [Column("No", "int", 5), Column("Dusun", "wrap", 28), Column("Bidang", "wrap", 34),
               Column("Masalah", "int", 10), Column("Potensi", "int", 10), Column("Kebutuhan", "int", 10),
               Column("Jumlah", "int", 10)]
    table = Table("Rekap dusun & bidang", "REKAP PENGKAJIAN KEADAAN DESA PER DUSUN DAN BIDANG", columns)
    # Named dusun first (by name), the desa-wide items last; bidang in code order, "no bidang" last.
    ordered = sorted(counts, key=lambda k: (k[0] == "", k[0].casefold(), k[1] == "", k[1]))
    for no, (dusun, bidang) in enumerate(ordered, start=1):
        per = counts[(dusun, bidang)]
        values = [per.get(k, 0) for k in kinds]
        table.rows.append([no, dusun or TANPA_DUSUN, _bidang(bidang, names) if bidang else TANPA_BIDANG,
                           *values, sum(values)])
    sums = [Sum(sum(r[i] for r in table.rows)) for i in range(3, 7)]
    table.totals = ["Jumlah", None, None, *sums]
    return [table]


async def _peringkat_masalah(db: AsyncSession, who: Principal, desa: DesaInfo) -> list[Table]:
    names = await queries.bidang_names(db)
    rows = await queries.peringkat_masalah(db, who, desa.code)
    columns = [
        Column("No", "int", 5), Column("Peringkat", "int", 10), Column("Masalah", "wrap", 40),
        Column("Penyebab", "wrap", 28), Column("Potensi yang ada", "wrap", 28), Column("Usulan tindakan", "wrap", 28),
        Column("Bidang", "wrap", 24), Column("Dusun", "wrap", 20), Column("Kelompok sumber", "text", 16),
        Column("Skor dirasakan banyak orang", "int", 11), Column("Skor parah / mendesak", "int", 11),
        Column("Skor menghambat pendapatan", "int", 11), Column("Skor sering terjadi", "int", 11),
        Column("Skor tersedia potensi", "int", 11), Column("Skor total", "int", 9), Column("Status review", "text", 15),
    ]
    table = Table("Peringkat masalah", "PERINGKAT MASALAH HASIL PENGKAJIAN KEADAAN DESA", columns)
    for no, m in enumerate(rows, start=1):
        table.rows.append([no, m.peringkat, m.uraian, m.penyebab, m.potensi_tersedia, m.usulan_tindakan,
                           _bidang(m.bidang_code, names), m.dusun or TANPA_DUSUN, m.kelompok_sumber, *m.skor,
                           m.skor_total, STATUS.get(m.review_state, m.review_state)])
    return [table]


async def _rekap_musyawarah(db: AsyncSession, who: Principal, desa: DesaInfo) -> list[Table]:
    rows = await queries.rekap_musyawarah(db, who, desa.code)
    columns = [
        Column("No", "int", 5), Column("Jenis musyawarah", "wrap", 28), Column("Tanggal", "date", 18),
        Column("Tempat", "wrap", 24), Column("Dusun", "wrap", 22), Column("Hadir laki-laki", "int", 10),
        Column("Hadir perempuan", "int", 11), Column("Jumlah hadir", "int", 10), Column("% perempuan", "pct", 11),
        Column("Status review", "text", 15),
    ]
    table = Table("Rekap musyawarah", "REKAP MUSYAWARAH DAN KEHADIRAN LAKI-LAKI / PEREMPUAN", columns)
    for no, m in enumerate(rows, start=1):
        jenis = JENIS_MUSYAWARAH.get(m.jenis, m.jenis)  # type: ignore[call-overload]
        if m.kelompok.strip():
            jenis = f"{jenis} ({m.kelompok.strip()})"
        total = m.hadir_l + m.hadir_p
        table.rows.append([no, jenis, m.tanggal, m.tempat, m.dusun or TANPA_DUSUN, m.hadir_l, m.hadir_p, total,
                           _share(m.hadir_p, total), STATUS.get(m.review_state, m.review_state)])
    laki, perempuan = sum(m.hadir_l for m in rows), sum(m.hadir_p for m in rows)
    table.totals = ["Jumlah", f"{len(rows)} musyawarah", None, None, None, Sum(laki), Sum(perempuan),
                    Sum(laki + perempuan), _share(perempuan, laki + perempuan), None]
    return [table]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


BUILDERS = {
    "daftar-gagasan": _daftar_gagasan,
    "rekap-pengkajian": _rekap_pengkajian,
    "peringkat-masalah": _peringkat_masalah,
    "rekap-musyawarah": _rekap_musyawarah,
}
