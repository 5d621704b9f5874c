"""One field contract, in Chromium: the app checks what she types with the server's own limits
(pwa/js/contract.js, generated from sync/records.py), a musyawarah at 19:00 with its attendance and
usulan arrives whole, an out-of-range value is a form error in Indonesian next to its field with nothing
queued, and the rank the app shows is the one the exports print."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sync.records import SCORE_FIELDS, TABLES, FieldError, parse_changes
from tests.conftest import GEROKGAK, LiveServer, Store
from tests.pwa.conftest import App, off_loop
from tests.pwa.pages import attend, big_photo, save, scores
from tests.syncing import Device, mutation

pytestmark = pytest.mark.slow

HADIR = [(f"Warga {'Ni Kadek' if n % 2 else 'I Nyoman'} {n:02d}", "P" if n % 2 else "L") for n in range(1, 11)]


def outbox(page: Page) -> int:
    return page.evaluate("async () => (await import('/js/db.js')).countOutbox()")


def refused(page: Page) -> list[dict[str, Any]]:
    """Every record on the phone the server refused (none may be left)."""
    return page.evaluate("""async () => {
        const db = await import('/js/db.js');
        const out = [];
        for (const t of ['pengkajian', 'musyawarah', 'kehadiran', 'usulan', 'komentar'])
            for (const r of await db.listRecords(t)) if (r.rejected) out.push({ t, id: r.id, ...r.rejected });
        return out;
    }""")


def error_of(page: Page, label: str) -> Any:
    """The form error shown in the field labelled ``label``."""
    return page.locator(".field", has=page.get_by_label(label, exact=True)).locator(".field-error")


# --- the scenario, fixed -------------------------------------------------------------------------


@pytest.mark.every_database  # the scenario must end right on SQLite and PostgreSQL alike
def test_a_musyawarah_at_19_00_arrives_with_its_attendance_photo_and_usulan_exactly_once(
        phones, app_on, kader, store: Store, server: LiveServer, tmp_path: Path, shots) -> None:
    phone = app_on(phones())
    page = phone.page
    phone.login(*kader)
    phone.context.set_offline(True)
    expect(page.get_by_test_id("net")).to_have_text("Tanpa sinyal")

    page.evaluate("location.hash = '#/musyawarah/baru'")
    expect(page.get_by_role("heading", name="Musyawarah baru")).to_be_visible()
    page.get_by_label("Jenis", exact=True).select_option("musyawarah_dusun")
    page.get_by_label("Mulai").fill("19:00")  # what <input type=time> holds: "19:00"
    page.get_by_label("Selesai").fill("21:30")
    page.get_by_label("Tempat").fill("Balai Banjar jam tujuh malam")
    page.get_by_label("Dusun").select_option(label="Banjar Dinas Celukan")
    page.get_by_test_id("photo-input").set_input_files(str(big_photo(tmp_path / "daftar-hadir.png")))
    expect(page.get_by_test_id("photos").locator("img")).to_have_count(1, timeout=20_000)
    save(page)
    musy = page.url.rsplit("/", 1)[1]
    attend(page, HADIR)
    expect(page.get_by_test_id("totals")).to_have_text("Perempuan 5 · Laki-laki 5 · Jumlah 10")
    for kegiatan in ("Lampu jalan dari musyawarah malam", "Sumur bor dari musyawarah malam"):
        page.evaluate("location.hash = '#/usulan/baru'")
        expect(page.get_by_role("heading", name="Usulan baru")).to_be_visible()
        page.get_by_label("Gagasan kegiatan").fill(kegiatan)
        page.get_by_label("Asal musyawarah").select_option(musy)
        scores(page, (4, 4, 3, 4, 3))
        save(page)
    phone.expect_unsent(13)  # the musyawarah, 10 attendance lines, 2 usulan

    phone.context.set_offline(False)  # the `online` event syncs
    phone.expect_unsent(0)
    expect(page.get_by_test_id("unsent")).not_to_contain_text("foto", timeout=30_000)
    assert refused(page) == []
    phone.go("")
    expect(page.locator("#main")).not_to_contain_text("ditolak")
    shots(page, "contract-musyawarah-19-00-terkirim")

    # On the server, through the API: the times as typed, every line and both usulan exactly once.
    checker = Device(server, server.login(*kader, device="pemeriksa"))
    rows: dict[str, list[dict]] = {}
    for c in checker.pull_all():
        if c["row"] is not None:
            rows.setdefault(c["table"], []).append(c["row"])
    [m] = [r for r in rows["musyawarah"] if r["id"] == musy]
    assert (m["jam_mulai"], m["jam_selesai"], m["tempat"]) == ("19:00", "21:30", "Balai Banjar jam tujuh malam")
    assert len(m["foto"]) == 1
    lines = [r for r in rows["kehadiran"] if r["musyawarah_id"] == musy]
    assert sorted((r["nama"], r["jenis_kelamin"]) for r in lines) == sorted(HADIR)
    usulan = [r for r in rows["usulan"] if r["musyawarah_id"] == musy]
    assert sorted(r["kegiatan"] for r in usulan) == ["Lampu jalan dari musyawarah malam",
                                                      "Sumur bor dari musyawarah malam"]
    ids = {musy, *(r["id"] for r in lines), *(r["id"] for r in usulan)}
    creates = off_loop(store.rows, """
        SELECT h.record_id FROM history h JOIN sync_clients c ON c.id = h.client_id JOIN users u ON u.id = c.user_id
         WHERE u.username = :u AND h.op = 'create'""", u=kader[0])
    assert sorted(str(rid) for rid, in creates) == sorted(ids)  # one create each, nothing twice

    # Opened again and saved as it is: 19:00 is 19:00, not an edit.
    phone.go(f"musyawarah/{musy}")
    expect(page.get_by_label("Mulai")).to_have_value("19:00")
    page.get_by_role("button", name="Simpan", exact=True).click()
    expect(page.get_by_text("Tidak ada perubahan").last).to_be_visible()
    assert outbox(page) == 0
    assert phone.errors == []


# --- out-of-range values are form errors, never refusals ---------------------------------------------------


def test_values_beyond_the_servers_limits_are_indonesian_form_errors_next_to_the_field_and_nothing_is_queued(
        phones, app_on, kader, shots) -> None:
    phone = app_on(phones())
    page = phone.page
    phone.login(*kader)
    phone.context.set_offline(True)
    before = outbox(page)

    page.evaluate("location.hash = '#/usulan/baru'")
    expect(page.get_by_role("heading", name="Usulan baru")).to_be_visible()
    page.get_by_label("Gagasan kegiatan").fill("Jalan usaha tani")
    page.get_by_label("Volume").fill("1234567890123")  # 13 digits: above the server's 1e12
    page.get_by_label("Laki-laki").fill("20000000")  # above 10 million
    page.get_by_label("Perempuan", exact=True).fill("2,5")  # not a whole number of people
    page.get_by_label("Lokasi").fill("x" * 20_001)  # the input has no maxlength; the server allows 20,000
    page.get_by_role("button", name="Simpan", exact=True).click()

    expect(error_of(page, "Volume")).to_have_text("Isi angka 0 sampai 1.000.000.000.000.")
    expect(error_of(page, "Laki-laki")).to_have_text("Isi angka bulat 0 sampai 10.000.000.")
    expect(error_of(page, "Perempuan")).to_have_text("Isi angka bulat 0 sampai 10.000.000.")
    expect(error_of(page, "Lokasi")).to_have_text("Paling banyak 20.000 huruf.")
    expect(page.locator(".field-error")).to_have_count(4)
    expect(page.get_by_label("Volume")).to_have_attribute("aria-invalid", "true")
    shots(page, "contract-usulan-batas")
    assert page.evaluate("document.getElementById('main').dataset.route") == "#/usulan/baru"  # still on the form
    assert outbox(page) == before
    phone.expect_unsent(before)

    # Empty where the server requires a value: said so, nothing queued.
    page.get_by_label("Gagasan kegiatan").fill("")
    page.get_by_role("button", name="Simpan", exact=True).click()
    expect(error_of(page, "Gagasan kegiatan")).to_have_text("Wajib diisi.")
    assert outbox(page) == before

    # Fixed, it saves: one change queued.
    page.get_by_label("Gagasan kegiatan").fill("Jalan usaha tani")
    page.get_by_label("Volume").fill("1250,5")
    page.get_by_label("Laki-laki").fill("120")
    page.get_by_label("Perempuan", exact=True).fill("130")
    page.get_by_label("Lokasi").fill("x" * 20_000)
    save(page)
    assert outbox(page) == before + 1
    [m] = [m for m in page.evaluate("async () => (await import('/js/db.js')).listOutbox()")
           if m["changes"].get("kegiatan") == "Jalan usaha tani"]
    assert (m["changes"]["volume"], m["changes"]["penerima_laki"], m["changes"]["penerima_perempuan"]) == (1250.5, 120,
                                                                                                         130)
    assert phone.errors == []


# --- the app's checks are the server's ---------------------------------------------------------------------


def _cases() -> list[tuple[str, str, Any]]:
    """Boundary values for every field a phone writes, derived from sync/records.py's own limits."""
    from sync.contract import contract

    tables = contract()["TABLES"]
    emoji = "\U0001f33e"  # outside the BMP: two UTF-16 units, one character for the server
    out: list[tuple[str, str, Any]] = []
    for table, spec in tables.items():
        if spec["adminOnly"]:
            continue
        for name, f in spec["fields"].items():
            values: list[Any] = [None, "", 7, True, [], {}]
            kind = f["type"]
            if kind == "text":
                hi = f.get("maxLength", 50)
                values += ["a" * hi, "a" * (hi + 1), emoji * hi, emoji * (hi + 1), "ok\x00", "ꦗꦮ ꦲꦏ꧀ꦱꦫ", " "]
                values += ["2", "2.3", "2.13", "5.99", "6", "2.", "2\n", "51.08.01.2001", "51.08.01.2001\n", "a" * 64]
            elif kind == "time":
                values += ["19:00", "00:00", "23:59", "07:30:15", "19:00:00", "24:00", "7:5", "19.00", "19:60",
                           "19:00\n", "19:00:00Z", "19:00:00.5", " 19:00"]
            elif kind == "date":
                values += ["2026-12-08", "2024-02-29", "2026-02-29", "2026-13-01", "2026-00-10", "0001-01-01",
                           "26-12-08", "2026-12-08T00:00:00", "2026-12-8"]
            elif kind in ("integer", "number"):
                lo, hi = f["min"], f["max"]
                values += [lo, hi, lo - 1, hi + 1, (lo + hi) / 2, 2.5, "3", 1e300, -1e300]
            elif kind == "uuid":
                values += [str(uuid.uuid4()), "not-a-uuid", str(uuid.uuid4()).upper()]
            elif kind == "enum":
                values += [*f["values"], f["values"][0].upper() + "x", f["values"][0] + " "]
            elif kind == "list":
                n = f["maxItems"]
                item = f["item"]
                good: Any = ({"nama": "Pak Camat", "unsur": "pemerintah"} if item["type"] == "object"
                             else "ab" * 32 if item.get("pattern") else "baris")
                values += [[good] * n, [good] * (n + 1), ["x" * (item.get("maxLength", 10) + 1)], [None], [3]]
                if item["type"] == "object":
                    values += [[{"nama": ""}], [{"unsur": "x"}], [{"nama": "A", "lain": 1}], [{"nama": "A" * 121}]]
                if item.get("pattern"):
                    values += [["AB" * 32], ["ab" * 32 + "\n"]]
            out += [(table, name, v) for v in values]
    return out


def _server_takes(table: str, name: str, value: Any) -> bool:
    try:
        parse_changes(table, {name: value})
    except FieldError:
        return False
    return True


def test_the_apps_checks_agree_with_the_server_on_every_boundary(phones, app_on) -> None:
    """Per field, type by type and limit by limit: the phone accepts exactly what the server takes."""
    phone = app_on(phones())
    phone.open()
    expect(phone.page.get_by_role("button", name="Masuk")).to_be_visible()
    cases = _cases()
    assert {t for t, _, _ in cases} == {t for t, s in TABLES.items() if not s.admin_only}
    # Each value as the app judges it, and as it would reach the server (the JSON the app sends).
    judged = phone.page.evaluate("""async (cases) => {
        const { validate } = await import('/js/protocol.js');
        return cases.map(([t, f, v]) => [Object.keys(validate(t, { [f]: v })).length === 0, JSON.stringify(v)]);
    }""", [list(c) for c in cases])
    differ = [(t, f, sent[:60], server) for (t, f, _), (app, sent) in zip(cases, judged, strict=True)
              if app != (server := _server_takes(t, f, json.loads(sent)))]
    assert differ == [], f"{len(differ)} of {len(cases)} values judged differently (table, field, value, server): " \
                         f"{differ[:20]}"


INPUTS = [  # (table, field, what the input holds, the wire value)
    ("musyawarah", "jam_mulai", "19:00", "19:00"),  # what <input type=time> gives
    ("musyawarah", "jam_mulai", "07:30:15", "07:30:15"),
    ("musyawarah", "jam_mulai", "19:00:00", "19:00"),
    ("musyawarah", "jam_mulai", "19.00", "19:00"),  # typed where a browser has no time input
    ("musyawarah", "jam_mulai", "7:05", "07:05"),
    ("musyawarah", "jam_mulai", "", None),  # empty: null for a field that may be null
    ("musyawarah", "tanggal", "", None),  # … and required where it may not (a form error)
    ("musyawarah", "tempat", "", ""),  # empty text is ""
    ("musyawarah", "keputusan", "", []),  # an empty list, one item per non-empty line
    ("musyawarah", "keputusan", "Satu\n\n Dua ", ["Satu", "Dua"]),
    ("usulan", "bidang_code", "", None),  # a code: null
    ("usulan", "sumber_dana", "", None),
    ("usulan", "volume", "2,5", 2.5),  # numbers as JSON numbers, a decimal comma or point
    ("usulan", "volume", "250", 250),
    ("usulan", "penerima_laki", " 96 ", 96),
    ("usulan", "penerima_laki", "1.000", "1.000"),  # not read as 1: left as typed, a form error
    ("usulan", "penerima_laki", "", None),
]


def test_form_input_becomes_the_documented_wire_value(phones, app_on) -> None:
    """docs/sync-protocol.md, "Fields": what each input gives, and what an empty one becomes."""
    phone = app_on(phones())
    phone.open()
    expect(phone.page.get_by_role("button", name="Masuk")).to_be_visible()
    got = phone.page.evaluate("""async (inputs) => {
        const { coerce } = await import('/js/protocol.js');
        return inputs.map(([t, f, v]) => coerce(t, f, v));
    }""", [[t, f, v] for t, f, v, _ in INPUTS])
    assert [(t, f, v, type(g).__name__, g) for (t, f, v, _), g in zip(INPUTS, got, strict=True)] == [
        (t, f, v, type(w).__name__, w) for t, f, v, w in INPUTS]


# --- rank travels -------------------------------------------------------------------------------------------


def _usulan(page: Page, kegiatan: str, skor: tuple[int, int, int, int, int] | None) -> None:
    page.evaluate("location.hash = '#/usulan/baru'")
    expect(page.get_by_role("heading", name="Usulan baru")).to_be_visible()
    page.get_by_label("Gagasan kegiatan").fill(kegiatan)
    if skor:
        scores(page, skor)
    save(page)


def _kajian(page: Page, uraian: str, jenis: str, skor: tuple[int, int, int, int, int]) -> None:
    page.evaluate("location.hash = '#/pengkajian/baru'")
    expect(page.get_by_role("heading", name="Kajian baru")).to_be_visible()
    page.locator("label.choice", has_text=jenis).click()
    page.get_by_label("Uraian").fill(uraian)
    scores(page, skor)
    save(page)


def _shown_ranks(page: Page) -> dict[str, int | None]:
    """Title → the rank the list shows (None: no rank), for every row (all pages of the list)."""
    more = page.get_by_role("button", name="Tampilkan lebih banyak")
    while more.is_visible():
        more.click()
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('[data-testid=list] li')].map(
        (li) => [li.querySelector('.title').textContent,
                 li.querySelector('.rank') ? Number(li.querySelector('.rank').textContent.slice(1)) : null]))""")


def _export_ranks(server: LiveServer, token: str, desa: str, report: str, title: str) -> dict[str, int | None]:
    with server.client(token) as c:
        r = c.get(f"/api/exports/{desa}/{report}.csv")
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"), newline=""), delimiter=";"))
    return {row[title]: int(row["Peringkat"]) if row["Peringkat"] else None for row in rows
            if row["No"] and row["No"].isdigit()}


def test_the_rank_the_app_shows_is_the_rank_the_export_prints(
        phones, app_on, store: Store, server: LiveServer, shots) -> None:
    desa = off_loop(store.new_desa, GEROKGAK)  # a desa of its own: the ranks are among what this test made
    kader = off_loop(store.user, "kader", desa)
    phone = App(phones(), server)
    page = phone.page
    phone.login(*kader)

    # Another phone of the desa has sent two usulan; the kecamatan rejects the higher one (not ranked).
    other = Device(server, server.login(*off_loop(store.user, "kader", desa), device="hp-lain"))
    theirs, rejected = uuid.uuid4(), uuid.uuid4()
    results = other.push(
        mutation("create", "usulan", theirs, {"kegiatan": "Tambatan perahu", **{f: 4 for f in SCORE_FIELDS}}),
        mutation("create", "usulan", rejected, {"kegiatan": "Gapura desa", **{f: 5 for f in SCORE_FIELDS}}))
    assert {r["status"] for r in results} == {"applied"}, results
    admin = server.login(*off_loop(store.user, "admin", GEROKGAK), device="kantor")
    with server.client(admin) as c:
        r = c.post("/api/review", json={"table": "usulan", "ids": [str(rejected)], "state": "ditolak",
                                        "note": "Bukan prioritas tahun ini"})
    assert r.status_code == 200, r.text

    # On this phone: a tie, one above it, one below, one unscored; masalah and a potensi (ranked apart).
    _usulan(page, "Drainase jalan dusun", (5, 4, 3, 5, 4))  # 21
    _usulan(page, "Posyandu sore", (4, 4, 2, 4, 4))  # 18
    _usulan(page, "Sumur bor", (4, 4, 4, 3, 3))  # 18
    _usulan(page, "Pelatihan kader", (3, 3, 3, 3, 3))  # 15
    _usulan(page, "Lampu jalan", None)  # unscored
    _kajian(page, "Jalan tergenang", "Masalah", (5, 4, 3, 5, 4))  # 21
    _kajian(page, "Abrasi pantai", "Masalah", (3, 3, 2, 4, 3))  # 15
    _kajian(page, "Kelompok nelayan", "Potensi", (5, 5, 5, 5, 5))  # 25, but a potensi
    phone.sync()
    phone.expect_unsent(0)

    phone.go("usulan")
    app_usulan = _shown_ranks(page)
    shots(page, "contract-usulan-peringkat")
    phone.go("pengkajian")
    app_kajian = _shown_ranks(page)

    assert app_usulan == {"Drainase jalan dusun": 1, "Tambatan perahu": 2, "Posyandu sore": 3, "Sumur bor": 3,
                          "Pelatihan kader": 5, "Lampu jalan": None, "Gapura desa": None}
    assert app_kajian == {"Jalan tergenang": 1, "Abrasi pantai": 2, "Kelompok nelayan": 1}
    gagasan = _export_ranks(server, admin, desa, "daftar-gagasan", "Gagasan kegiatan")
    masalah = _export_ranks(server, admin, desa, "peringkat-masalah", "Masalah")
    # The export lists no rejected record; every record it lists has the rank the phone shows.
    assert gagasan == {k: v for k, v in app_usulan.items() if k != "Gapura desa"}
    assert masalah == {k: v for k, v in app_kajian.items() if k != "Kelompok nelayan"}
    expect(page.get_by_test_id("list").locator("li", has_text="Kelompok nelayan")).to_contain_text("#1")
    assert phone.errors == []
