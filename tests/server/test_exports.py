"""Exports over real HTTP (both databases): the daftar gagasan, the pengkajian recap and the musyawarah recap
as XLSX (opened with openpyxl) and CSV (parsed with csv), their ranks and totals, and who may fetch them.

The data lives in a desa made for this module (named Patas), so rows and totals can be asserted exactly.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import openpyxl
import pytest

from tests.conftest import DESA_GANRA, GANRA, GEROKGAK, LiveServer, Store
from tests.support.database import REGISTER_GEROKGAK
from tests.syncing import Device, mutation

WITA = dt.timezone(dt.timedelta(hours=8))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Data:
    desa: str
    admin: Device
    kader: Device
    kelod: str
    kaja: str


def _applied(results: list[dict[str, Any]]) -> None:
    assert all(r["status"] == "applied" for r in results), results


def _review(admin: Device, table: str, ids: list[uuid.UUID], state: str, note: str = "") -> None:
    with admin.http() as c:
        r = c.post("/api/review", json={"table": table, "ids": [str(i) for i in ids], "state": state, "note": note})
    assert r.status_code == 200, r.text


def _scores(*s: int) -> dict[str, int]:
    return dict(zip(["skor_dirasakan", "skor_parah", "skor_pendapatan", "skor_sering", "skor_potensi"], s,
                    strict=True))


@pytest.fixture(scope="module")
def data(server: LiveServer, store: Store) -> Data:
    desa = store.new_desa(GEROKGAK, "Patas")
    admin = Device(server, server.login(*store.user("admin", GEROKGAK)))
    kader = Device(server, server.login(*store.user("kader", desa)))
    dusun = {}
    with admin.http() as c:
        # Named with and without the local word: both read "Banjar Dinas …" in the exports.
        for nama in ("Banjar Dinas Kelod", "Kaja"):
            r = c.post(f"/api/desa/{desa}/dusun", json={"nama": nama, "sebutan": "Banjar Dinas"})
            assert r.status_code in (200, 201), r.text
            dusun[nama] = r.json()["id"]
    kelod, kaja = dusun["Banjar Dinas Kelod"], dusun["Kaja"]

    # --- usulan: ranked by score with a tie (sync/ranking.py), one unscored (unranked); one rejected and one
    # deleted, both scored highest, left out of the list and of the ranking
    u = {k: uuid.uuid4() for k in ("drainase", "posyandu", "rumus", "sumur", "ditolak", "hapus", "perbaikan")}
    _applied(kader.push(
        mutation("create", "usulan", u["drainase"], {
            "kegiatan": "Pembangunan drainase jalan dusun", "bidang_code": "2", "sub_bidang_code": "2.3",
            "dusun_id": kelod, "volume": 250, "satuan": "m", "penerima_laki": 96, "penerima_perempuan": 104,
            "penerima_artm": 21, "biaya": 87_500_000, "sumber_dana": "DDS", "pola_pelaksanaan": "swakelola",
            **_scores(5, 4, 3, 5, 4)}),
        mutation("create", "usulan", u["posyandu"], {
            "kegiatan": "Pemberian makanan tambahan posyandu", "bidang_code": "2", "sub_bidang_code": "2.2",
            "lokasi": "Posyandu Melati", "dusun_id": kaja, "volume": 2.5, "satuan": "paket", "penerima_laki": 10,
            "penerima_perempuan": 30, "penerima_artm": 5, "biaya": 12_250_000, "sumber_dana": "ADD",
            **_scores(4, 4, 2, 4, 4)}),
        mutation("create", "usulan", u["rumus"], {
            "kegiatan": "=1+2 pelatihan kader", "bidang_code": "4", "biaya": 5_000_000, **_scores(4, 4, 4, 4, 4)}),
        mutation("create", "usulan", u["ditolak"], {"kegiatan": "Gapura desa", "biaya": 300_000_000,
                                                    **_scores(5, 5, 5, 5, 5)}),
        mutation("create", "usulan", u["hapus"], {"kegiatan": "Salah ketik", "biaya": 1, **_scores(5, 5, 5, 5, 5)}),
        mutation("create", "usulan", u["perbaikan"], {"kegiatan": "Lampu jalan tenaga surya", "biaya": 25_000_000,
                                                      "penerima_perempuan": 7}),
    ))
    # Ties with the posyandu (18); made later, so listed after it.
    _applied(kader.push(mutation("create", "usulan", u["sumur"], {"kegiatan": "Sumur bor", "biaya": 40_000_000,
                                                                 "penerima_laki": 4, **_scores(4, 4, 4, 3, 3)})))
    _applied(kader.push(mutation("delete", "usulan", u["hapus"], base_version=1)))
    _review(admin, "usulan", [u["drainase"], u["posyandu"]], "diverifikasi")
    _review(admin, "usulan", [u["ditolak"]], "ditolak", "Bukan prioritas tahun ini")
    _review(admin, "usulan", [u["perbaikan"]], "perlu_perbaikan", "Jumlah titik lampu belum ada")

    # --- pengkajian
    p = [uuid.uuid4() for _ in range(8)]
    _applied(kader.push(
        mutation("create", "pengkajian", p[0], {"jenis": "masalah", "uraian": "Jalan dusun tergenang saat hujan",
                                                "penyebab": "Tidak ada saluran", "bidang_code": "2.3",
                                                "dusun_id": kelod, "kelompok_sumber": "perempuan",
                                                **_scores(5, 4, 3, 5, 4)}),
        mutation("create", "pengkajian", p[1], {"jenis": "masalah", "uraian": "Balita kurang gizi",
                                                "bidang_code": "2.2", "dusun_id": kelod, **_scores(4, 5, 2, 3, 3)}),
        mutation("create", "pengkajian", p[2], {"jenis": "potensi", "uraian": "Kelompok nelayan aktif",
                                                "bidang_code": "4.1", "dusun_id": kelod, **_scores(5, 5, 5, 5, 5)}),
        mutation("create", "pengkajian", p[3], {"jenis": "kebutuhan", "uraian": "Air bersih", "bidang_code": "2",
                                                "dusun_id": kaja}),
        mutation("create", "pengkajian", p[4], {"jenis": "masalah", "uraian": "Sampah plastik di pantai",
                                                **_scores(3, 3, 2, 4, 3)}),
        mutation("create", "pengkajian", p[5], {"jenis": "masalah", "uraian": "Ditolak", "bidang_code": "2",
                                                "dusun_id": kaja, **_scores(5, 5, 5, 5, 5)}),
        mutation("create", "pengkajian", p[6], {"jenis": "masalah", "uraian": "Dihapus", "bidang_code": "2",
                                                "dusun_id": kaja, **_scores(5, 5, 5, 5, 5)}),
        mutation("create", "pengkajian", p[7], {"jenis": "kebutuhan", "uraian": "Pelatihan nelayan",
                                                "bidang_code": "4", "dusun_id": kelod}),
    ))
    _applied(kader.push(mutation("create", "pengkajian", uuid.uuid4(), {  # ties with the balita (17), made later
        "jenis": "masalah", "uraian": "Abrasi pantai", **_scores(3, 3, 3, 4, 4)})))
    _applied(kader.push(mutation("delete", "pengkajian", p[6], base_version=1)))
    _review(admin, "pengkajian", [p[5]], "ditolak", "Duplikat")

    # --- musyawarah with attendance (one line deleted, one musyawarah rejected)
    m = [uuid.uuid4() for _ in range(3)]
    _applied(kader.push(
        mutation("create", "musyawarah", m[0], {"jenis": "musyawarah_kelompok", "kelompok": "perempuan",
                                                "tanggal": "2026-08-10", "tempat": "Posyandu Melati",
                                                "dusun_id": kaja}),
        mutation("create", "musyawarah", m[1], {"jenis": "musyawarah_dusun", "tanggal": "2026-08-05",
                                                "tempat": "Balai Banjar Kelod", "dusun_id": kelod}),
        mutation("create", "musyawarah", m[2], {"jenis": "musdes_lainnya", "tanggal": "2026-08-01"}),
    ))
    # Two lines of a count-only tally: one with an empty name, one with none sent; both are counted.
    people = [(m[1], "Made", "L"), (m[1], "", "L"), (m[1], "Wayan", "L"), (m[1], "Luh", "P"),
              (m[1], "Kadek", "P"), (m[0], "Ni Nyoman", "P"), (m[0], "Ni Komang", "P"), (m[0], None, "P"),
              (m[0], "Ni Wayan", "P"), (m[2], "Gede", "L")]
    hadir = [uuid.uuid4() for _ in people]
    extra = uuid.uuid4()
    _applied(kader.push(
        *[mutation("create", "kehadiran", h, {"musyawarah_id": str(mid), "jenis_kelamin": jk}
                   | ({} if nama is None else {"nama": nama}))
          for h, (mid, nama, jk) in zip(hadir, people, strict=True)],
        mutation("create", "kehadiran", extra, {"musyawarah_id": str(m[1]), "nama": "Salah", "jenis_kelamin": "P"}),
    ))
    _applied(kader.push(mutation("delete", "kehadiran", extra, base_version=1)))
    _review(admin, "musyawarah", [m[2]], "ditolak", "Bukan musyawarah perencanaan")
    return Data(desa, admin, kader, kelod, kaja)


def fetch(device: Device, path: str) -> httpx.Response:
    with device.http() as c:
        return c.get(path)


def workbook(r: httpx.Response, data_only: bool = True) -> openpyxl.Workbook:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    return openpyxl.load_workbook(io.BytesIO(r.content), data_only=data_only)


def sheet_rows(ws: Any) -> tuple[list[Any], list[list[Any]]]:
    """(header, data and totals rows): the header is row 5, below the title lines."""
    rows = [list(r) for r in ws.iter_rows(min_row=5, values_only=True)]
    return rows[0], rows[1:]


def csv_rows(r: httpx.Response) -> tuple[list[str], list[list[str]]]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"  # one charset, not two
    assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    assert b"\r\n" in r.content
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline=""), delimiter=";"))
    return rows[0], rows[1:]


def as_csv(value: Any, pct: bool = False) -> str:
    """How a cell of the XLSX reads in the CSV (decimal comma, percentages as 52,4, ISO dates)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if pct and isinstance(value, int):
        value = float(value)  # openpyxl reads a stored 1.0 back as 1
    if isinstance(value, float):
        value = round(value * 100, 1) if pct else value
        return (str(int(value)) if value.is_integer() else repr(value)).replace(".", ",")
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
        return "'" + value
    return str(value)


def filename(r: httpx.Response) -> str:
    match = re.fullmatch(r'attachment; filename="([^"]+)"', r.headers["content-disposition"])
    assert match, r.headers["content-disposition"]
    return match.group(1)


def today_wita() -> set[str]:
    now = dt.datetime.now(WITA)
    return {now.date().isoformat(), (now - dt.timedelta(minutes=5)).date().isoformat()}


# --- daftar gagasan ---------------------------------------------------------------------------------------


def test_daftar_gagasan_xlsx_has_ranked_rows_totals_and_indonesian_formats(data: Data) -> None:
    r = fetch(data.admin, f"/api/exports/{data.desa}/daftar-gagasan.xlsx")
    wb = workbook(r)
    name = filename(r)
    assert re.fullmatch(rf"daftar-gagasan-{re.escape(data.desa)}-Patas-\d{{4}}-\d{{2}}-\d{{2}}\.xlsx", name)
    assert name[-15:-5] in today_wita()
    ws = wb.worksheets[0]
    assert "DAFTAR GAGASAN" in ws["A1"].value
    assert ws["A2"].value == f"Desa Patas, Kecamatan Gerokgak, Kabupaten Buleleng ({data.desa})"
    assert ws["A3"].value.startswith("Diekspor ") and "WITA" in ws["A3"].value
    header, rows = sheet_rows(ws)
    assert header == ["No", "Peringkat", "Gagasan kegiatan", "Bidang", "Sub-bidang", "Lokasi (dusun)", "Volume",
                      "Satuan", "Penerima manfaat laki-laki", "Penerima manfaat perempuan", "Penerima manfaat A-RTM",
                      "Perkiraan biaya (Rp)", "Sumber dana", "Pola pelaksanaan", "Skor total", "Status review"]
    *body, total = rows
    # Peringkat by the rule (sync/ranking.py): by total, equal totals share a rank, the unscored one is unranked
    # and last; the rejected and the deleted ones (both scored 25) are neither listed nor counted.
    assert [(row[0], row[1], row[2], row[14], row[15]) for row in body] == [
        (1, 1, "Pembangunan drainase jalan dusun", 21, "Diverifikasi"),
        (2, 2, "=1+2 pelatihan kader", 20, "Diajukan"),
        (3, 3, "Pemberian makanan tambahan posyandu", 18, "Diverifikasi"),
        (4, 3, "Sumur bor", 18, "Diajukan"),
        (5, None, "Lampu jalan tenaga surya", None, "Perlu perbaikan"),
    ]
    first = body[0]
    assert first[3:14] == ["2 Pelaksanaan Pembangunan Desa", "2.3 Pekerjaan umum & penataan ruang",
                           "Banjar Dinas Kelod", 250, "m", 96, 104, 21, 87_500_000, "DDS", "Swakelola"]
    assert body[2][5] == "Posyandu Melati (Banjar Dinas Kaja)" and body[2][6] == 2.5
    assert total[0] == "Jumlah" and total[2] == "5 usulan"
    assert total[8:12] == [96 + 10 + 4, 104 + 30 + 7, 21 + 5, 87_500_000 + 12_250_000 + 25_000_000 + 5_000_000
                           + 40_000_000]

    # The totals are formulas (the office edits the draft), cached with the right values.
    raw = workbook(fetch(data.admin, f"/api/exports/{data.desa}/daftar-gagasan.xlsx"), data_only=False).worksheets[0]
    assert raw.cell(row=11, column=12).value == "=SUM(L6:L10)"
    assert raw.cell(row=7, column=3).value == "=1+2 pelatihan kader"
    assert raw.cell(row=7, column=3).data_type == "s"  # "=1+2 …" typed on a phone stays text
    # Rp with thousands separators (rendered "Rp 87.500.000" by Indonesian Excel), bold frozen header.
    assert ws.cell(row=6, column=12).number_format == "[$Rp-421] #,##0"
    assert ws.cell(row=6, column=9).number_format == "#,##0"
    assert ws.cell(row=5, column=1).font.b and ws.cell(row=11, column=12).font.b
    assert ws.freeze_panes == "A6"
    assert ws.column_dimensions["C"].width > 30
    assert ws.auto_filter.ref == "A5:P10"


def test_daftar_gagasan_csv_has_the_same_rows_as_the_xlsx(data: Data) -> None:
    r = fetch(data.admin, f"/api/exports/{data.desa}/daftar-gagasan.csv")
    header, rows = csv_rows(r)
    assert filename(r).endswith(".csv") and filename(r).startswith(f"daftar-gagasan-{data.desa}-Patas-")
    x_header, x_rows = sheet_rows(workbook(fetch(data.admin, f"/api/exports/{data.desa}/daftar-gagasan.xlsx")).active)
    assert header == x_header
    assert rows == [[as_csv(v) for v in row] for row in x_rows]
    assert rows[0][11] == "87500000" and rows[2][6] == "2,5"
    assert rows[1][2] == "'=1+2 pelatihan kader"  # not run as a formula by Excel
    assert rows[-1][11] == str(87_500_000 + 12_250_000 + 25_000_000 + 5_000_000 + 40_000_000)


# --- pengkajian ------------------------------------------------------------------------------------------


def test_rekap_pengkajian_counts_per_dusun_and_bidang_and_ranks_the_masalah(data: Data) -> None:
    wb = workbook(fetch(data.admin, f"/api/exports/{data.desa}/rekap-pengkajian.xlsx"))
    assert wb.sheetnames == ["Rekap dusun & bidang", "Peringkat masalah"]
    header, rows = sheet_rows(wb.worksheets[0])
    assert header == ["No", "Dusun", "Bidang", "Masalah", "Potensi", "Kebutuhan", "Jumlah"]
    *body, total = rows
    assert [(r[1], r[2][:1], r[3], r[4], r[5], r[6]) for r in body] == [
        ("Banjar Dinas Kaja", "2", 0, 0, 1, 1),  # the rejected masalah is not counted
        ("Banjar Dinas Kelod", "2", 2, 0, 0, 2),  # 2.3 and 2.2 both count under bidang 2
        ("Banjar Dinas Kelod", "4", 0, 1, 1, 2),
        ("(tingkat desa / tanpa dusun)", "(", 2, 0, 0, 2),
    ]
    assert body[0][2] == "2 Pelaksanaan Pembangunan Desa" and body[3][2] == "(tanpa bidang)"
    assert total[0] == "Jumlah" and total[3:] == [4, 1, 2, 7]

    m_header, m_rows = sheet_rows(wb.worksheets[1])
    assert m_header[:3] == ["No", "Peringkat", "Masalah"] and m_header[-2:] == ["Skor total", "Status review"]
    # Ranked among the masalah only (the potensi scored 25 is apart), the tie sharing 2, the next one 4.
    assert [(r[1], r[2], r[9:15]) for r in m_rows] == [
        (1, "Jalan dusun tergenang saat hujan", [5, 4, 3, 5, 4, 21]),
        (2, "Balita kurang gizi", [4, 5, 2, 3, 3, 17]),
        (2, "Abrasi pantai", [3, 3, 3, 4, 4, 17]),
        (4, "Sampah plastik di pantai", [3, 3, 2, 4, 3, 15]),
    ]
    assert m_rows[0][3] == "Tidak ada saluran" and m_rows[0][8] == "perempuan"

    c_header, c_rows = csv_rows(fetch(data.admin, f"/api/exports/{data.desa}/rekap-pengkajian.csv"))
    assert c_header == header and c_rows == [[as_csv(v) for v in row] for row in rows]
    p_header, p_rows = csv_rows(fetch(data.admin, f"/api/exports/{data.desa}/peringkat-masalah.csv"))
    assert p_header == m_header and p_rows == [[as_csv(v) for v in row] for row in m_rows]
    single = workbook(fetch(data.admin, f"/api/exports/{data.desa}/peringkat-masalah.xlsx"))
    assert single.sheetnames == ["Peringkat masalah"]


# --- musyawarah ------------------------------------------------------------------------------------------


def test_rekap_musyawarah_counts_women_and_men(data: Data) -> None:
    wb = workbook(fetch(data.admin, f"/api/exports/{data.desa}/rekap-musyawarah.xlsx"))
    ws = wb.active
    header, rows = sheet_rows(ws)
    assert header == ["No", "Jenis musyawarah", "Tanggal", "Tempat", "Dusun", "Hadir laki-laki", "Hadir perempuan",
                      "Jumlah hadir", "% perempuan", "Status review"]
    *body, total = rows
    assert [(r[1], r[2].date(), r[3], r[4], r[5], r[6], r[7]) for r in body] == [
        ("Musyawarah dusun", dt.date(2026, 8, 5), "Balai Banjar Kelod", "Banjar Dinas Kelod", 3, 2, 5),
        ("Musyawarah kelompok (perempuan)", dt.date(2026, 8, 10), "Posyandu Melati", "Banjar Dinas Kaja", 0, 4, 4),
    ]
    assert [r[8] for r in body] == [0.4, 1.0]
    assert total[5:9] == [3, 6, 9, pytest.approx(6 / 9, abs=1e-4)]
    assert ws.cell(row=6, column=9).number_format == "0.0%"
    assert ws.cell(row=6, column=3).number_format == "[$-421]d mmmm yyyy"  # 5 Agustus 2026

    c_header, c_rows = csv_rows(fetch(data.admin, f"/api/exports/{data.desa}/rekap-musyawarah.csv"))
    assert c_header == header
    assert c_rows == [[as_csv(v, pct=i == 8) for i, v in enumerate(row)] for row in rows]
    assert c_rows[0][2] == "2026-08-05" and c_rows[0][8] == "40" and c_rows[-1][8] == "66,7"


# --- access ----------------------------------------------------------------------------------------------


def test_the_export_index_lists_the_admins_desa_with_links(data: Data, store: Store) -> None:
    r = fetch(data.admin, "/api/exports")
    assert r.status_code == 200, r.text
    index = r.json()
    assert {d["code"] for d in index["desa"]} == store.desa_codes(GEROKGAK) >= REGISTER_GEROKGAK
    patas = next(d for d in index["desa"] if d["code"] == data.desa)
    assert patas["files"]["daftar-gagasan.xlsx"] == f"/api/exports/{data.desa}/daftar-gagasan.xlsx"
    assert fetch(data.admin, patas["files"]["rekap-musyawarah.csv"]).status_code == 200


def test_a_cadres_token_cannot_reach_the_exports(data: Data) -> None:
    for path in ("/api/exports", f"/api/exports/{data.desa}/daftar-gagasan.xlsx",
                 f"/api/exports/{data.desa}/rekap-musyawarah.csv"):
        r = fetch(data.kader, path)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["code"] == "forbidden"


def test_another_kecamatans_desa_and_unknown_files_are_not_found(data: Data, server: LiveServer,
                                                                 store: Store) -> None:
    for path in (f"/api/exports/{DESA_GANRA}/daftar-gagasan.xlsx", f"/api/exports/{DESA_GANRA}/rekap-musyawarah.csv",
                 f"/api/exports/{GEROKGAK}/daftar-gagasan.xlsx", f"/api/exports/{data.desa}/rahasia.xlsx",
                 f"/api/exports/{data.desa}/daftar-gagasan.pdf", "/api/exports/99.99.99.9999/daftar-gagasan.csv"):
        r = fetch(data.admin, path)
        assert r.status_code == 404, (path, r.text)
    ganra_admin = Device(server, server.login(*store.user("admin", GANRA)))
    assert fetch(ganra_admin, f"/api/exports/{data.desa}/daftar-gagasan.xlsx").status_code == 404
    # Ganra's admin gets Ganra's lists, and nothing of Gerokgak in its index.
    _, rows = csv_rows(fetch(ganra_admin, f"/api/exports/{DESA_GANRA}/daftar-gagasan.csv"))
    assert rows[-1][0] == "Jumlah"
    assert {d["code"][:8] for d in fetch(ganra_admin, "/api/exports").json()["desa"]} == {GANRA}


def test_without_a_token_the_exports_answer_401(server: LiveServer, data: Data) -> None:
    with server.client() as c:
        assert c.get(f"/api/exports/{data.desa}/daftar-gagasan.xlsx").status_code == 401
        assert c.get("/api/dashboard").status_code == 401
