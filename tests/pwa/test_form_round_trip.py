"""Every field of every cadre form, typed in Chromium with generated values, saved offline, synced, and
read back from the server as another device of the same cadre would (GET /api/sync/pull): each value
arrives as typed, or normalised as docs/sync-protocol.md ("Fields") says (empty text "", an empty
nullable field null, a decimal comma read as a point, biaya's thousands dots dropped, keputusan one
item per non-empty line, a time HH:MM).

The values are drawn from ``random.Random(seed)``; the seed is printed, and ``KADER_TEST_SEED=<seed>``
repeats a run exactly. Komentar has no form in the app (a cadre only reads the review's comments), so
there is nothing to type for it here.
"""

from __future__ import annotations

import os
import random
import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sync.contract import contract
from sync.records import SCORE_FIELDS
from tests.conftest import GEROKGAK, LiveServer, Store
from tests.pwa.conftest import App, off_loop
from tests.pwa.pages import save
from tests.syncing import Device, mutation

pytestmark = pytest.mark.slow

RECORDS = 3  # per form, in one phone session and one sync: CI time
LINES = 3  # attendance lines per musyawarah

# Names and words as cadres type them: Balinese and Bugis names with diacritics, the scripts themselves,
# Arabic, emoji (outside the BMP: two UTF-16 units, one character for the server).
WORDS = ["Ni Luh Putu Ayu Saraswatī", "I Gusti Ngurah Ṛai", "Andi Baso Daeng Matasa", "La Ode Muh. Ḥusain",
         "Wé Tenri Abeng", "ᬅᬓ᭄ᬱᬭᬩᬮᬶ", "ᨕᨗᨔᨗᨊ ᨅᨚᨁᨗ", "محمد عبد الله", "Ibu Siti Nurhalizah", "Kepala Dusun",
         "drainase 2,5 km", "Pura Désa", "Rp 87.500.000", "\U0001f33e\U0001f30a", "«kutipan» & <tanda>", "Ñoño"]
MAX_FIELD = 2_000  # longer limits are typed at this length, and at the limit on each form's first record


def limit(table: str, name: str) -> int:
    """The server's limit for the field, in characters (sync/records.py via the generated contract)."""
    return contract()["TABLES"][table]["fields"][name]["maxLength"]


def saved(page: Page, table: str, before: set[str]) -> str:
    """The id of the record the form just saved (read from the phone, not written)."""
    ids = page.evaluate("async (t) => (await (await import('/js/db.js')).listRecords(t)).map(r => r.id)", table)
    [new] = set(ids) - before
    return new


def ids(page: Page, table: str) -> set[str]:
    return set(page.evaluate("async (t) => (await (await import('/js/db.js')).listRecords(t)).map(r => r.id)", table))


def utf16(value: str) -> int:
    """Length in UTF-16 code units: what an input's maxlength attribute counts."""
    return len(value.encode("utf-16-le")) // 2


def text(rng: random.Random, most: int, *, lines: bool = False, optional: bool = True) -> str:
    """Generated text of at most ``most`` characters: empty, exactly the limit, or a few words.

    Kept within ``most`` UTF-16 units too (the inputs' maxlength counts those, the server code
    points): at the limit in BMP scripts only; text above the BMP at the limit is the xfail test below.
    """
    roll = rng.random()
    if optional and roll < 0.2:
        return ""
    if roll < 0.45:  # the boundary: exactly the limit, in a mix of scripts
        bmp = [w for w in WORDS if utf16(w) == len(w)]
        out = ""
        while len(out) < most:
            out += rng.choice(bmp) + ("\n" if lines and rng.random() < 0.2 else " ")
        out = out[:most]
        return out[:-1] + "x" if out[-1].isspace() else out
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
    if lines:
        words += "\n" + rng.choice(WORDS)
    while utf16(words) > most:
        words = words[:-1]
    return words.strip() or "x"


def maybe(rng: random.Random, value: Any, empty: Any = None) -> Any:
    return empty if rng.random() < 0.25 else value


def options(page: Page, select: str) -> list[str]:
    """The non-empty values a select offers."""
    return [v for v in page.locator(select).locator("option").evaluate_all("os => os.map(o => o.value)") if v]


def choose(page: Page, rng: random.Random, select: str) -> str | None:
    """Picks one of the select's values, or leaves it empty (a quarter of the time)."""
    value = maybe(rng, rng.choice(options(page, select)))
    page.locator(select).select_option(value or "")
    return value


def scores(page: Page, rng: random.Random) -> dict[str, int | None]:
    """Taps a score 1–5 for each criterion, or leaves it unscored (null)."""
    out = {}
    for i, f in enumerate(SCORE_FIELDS):
        out[f] = maybe(rng, rng.randint(1, 5))
        if out[f] is not None:
            page.locator(".scores fieldset").nth(i).get_by_text(str(out[f]), exact=True).click()
    return out


def fill(page: Page, name: str, value: str) -> str:
    page.locator(f"form.record-form [name={name}]").fill(value)
    return value


# --- the forms ---------------------------------------------------------------------------------------------


def pengkajian(page: Page, rng: random.Random, place: dict[str, float], edges: bool) -> tuple[str, dict[str, Any]]:
    page.evaluate("location.hash = '#/pengkajian/baru'")
    expect(page.get_by_role("heading", name="Kajian baru")).to_be_visible()
    want: dict[str, Any] = {}
    want["jenis"] = rng.choice(["masalah", "potensi", "kebutuhan"])
    page.locator("label.choice", has_text=want["jenis"].capitalize()).click()
    want["bidang_code"] = choose(page, rng, "form.record-form [name=bidang_code]")
    most = limit("pengkajian", "uraian")
    want["uraian"] = fill(page, "uraian", "ᬩ" * most if edges else text(rng, min(MAX_FIELD, most), lines=True,
                                                                          optional=False))
    for name in ("penyebab", "potensi_tersedia", "usulan_tindakan"):
        want[name] = fill(page, name, text(rng, min(MAX_FIELD, limit("pengkajian", name)), lines=True))
    want["dusun_id"] = choose(page, rng, "form.record-form [name=dusun_id]")
    want["kelompok_sumber"] = fill(page, "kelompok_sumber", text(rng, limit("pengkajian", "kelompok_sumber")))
    want["lokasi"] = fill(page, "lokasi", text(rng, min(MAX_FIELD, limit("pengkajian", "lokasi"))))
    if rng.random() < 0.75:  # the GPS point where the phone is (set once per run: see ``place``)
        page.get_by_role("button", name="Ambil titik GPS").click()
        expect(page.locator(".gps")).to_contain_text("±")  # the fix, not "Titik GPS: tidak ada"
        want.update(latitude=place["latitude"], longitude=place["longitude"], akurasi_m=place["accuracy"])
    else:
        want.update(latitude=None, longitude=None, akurasi_m=None)
    want.update(scores(page, rng))
    before = ids(page, "pengkajian")
    save(page)
    return saved(page, "pengkajian", before), want


def musyawarah(page: Page, rng: random.Random, dusun: dict[str, str],
               edges: bool) -> tuple[str, dict[str, Any], list[tuple]]:
    page.evaluate("location.hash = '#/musyawarah/baru'")
    expect(page.get_by_role("heading", name="Musyawarah baru")).to_be_visible()
    want: dict[str, Any] = {}
    want["jenis"] = rng.choice(options(page, "form.record-form [name=jenis]"))
    page.locator("form.record-form [name=jenis]").select_option(want["jenis"])
    want["kelompok"] = fill(page, "kelompok", text(rng, limit("musyawarah", "kelompok")))
    want["tanggal"] = fill(page, "tanggal", rng.choice(
        ["2024-02-29", "2000-01-01", "2099-12-31", f"{rng.randint(2020, 2030)}-{rng.randint(1, 12):02}-"
                                                   f"{rng.randint(1, 28):02}"]))
    for name, edge in (("jam_mulai", "00:00"), ("jam_selesai", "23:59")):
        typed = edge if edges else rng.choice(
            ["00:00", "23:59", "", f"{rng.randint(0, 23):02}:{rng.randint(0, 59):02}"])
        fill(page, name, typed)
        want[name] = typed or None
    want["tempat"] = fill(page, "tempat", text(rng, limit("musyawarah", "tempat")))
    want["dusun_id"] = choose(page, rng, "form.record-form [name=dusun_id]")
    want["pimpinan"] = fill(page, "pimpinan", text(rng, limit("musyawarah", "pimpinan")))
    want["pimpinan_unsur"] = choose(page, rng, "form.record-form [name=pimpinan_unsur]") or ""
    want["notulis"] = fill(page, "notulis", text(rng, limit("musyawarah", "notulis")))
    want["agenda"] = fill(page, "agenda", text(rng, MAX_FIELD, lines=True))
    longest = (("ᨕᨗᨔᨗᨊ " * 200)[:999] + "\n") * 100  # 100,000: the limit, in long lines (fast to type)
    want["notulen"] = fill(page, "notulen", longest[:limit("musyawarah", "notulen")] if edges
                           else text(rng, MAX_FIELD, lines=True))
    items = [text(rng, 300, optional=False) for _ in range(rng.choice([0, 1, 3]))]
    # One item per non-empty line, each trimmed: blank lines and the spaces around a line are not kept.
    fill(page, "keputusan", "\n\n".join(f"  {item} " for item in items))
    want["keputusan"] = [item.strip() for item in items if item.strip()]
    want["foto"] = []
    save(page)
    expect(page).to_have_url(re.compile(r"#/musyawarah/[0-9a-f-]{36}$"))
    mid = page.url.rsplit("/", 1)[1]

    # The daftar hadir of this musyawarah, the fast way: unsur and asal, a name (or none), P or L.
    lines = []
    entry = page.locator("form.hadir-entry")
    for n in range(LINES):
        unsur = rng.choice(options(page, "form.hadir-entry [name=unsur]"))
        entry.locator("[name=unsur]").select_option(unsur)
        asal = maybe(rng, rng.choice(sorted(dusun.values())))
        entry.locator("[name=dusun_id]").select_option(asal or "")
        nama = text(rng, limit("kehadiran", "nama")).strip() if n else ""  # the first is a tally: no name
        box = page.get_by_test_id("hadir-nama")
        box.fill(nama)
        sex = rng.choice("PL")
        page.get_by_test_id(f"add-{sex.lower()}").click()
        expect(box).to_have_value("")
        lines.append((nama, sex, unsur, asal))
    expect(page.get_by_test_id("attendance").locator("li")).to_have_count(LINES)
    return mid, want, lines


def usulan(page: Page, rng: random.Random, musy: list[str], kajian: list[str],
           edges: bool) -> tuple[str, dict[str, Any]]:
    page.evaluate("location.hash = '#/usulan/baru'")
    expect(page.get_by_role("heading", name="Usulan baru")).to_be_visible()
    want: dict[str, Any] = {}
    want["kegiatan"] = fill(page, "kegiatan", text(rng, limit("usulan", "kegiatan"), lines=True, optional=False))
    want["musyawarah_id"] = maybe(rng, rng.choice(musy))
    page.locator("form.record-form [name=musyawarah_id]").select_option(want["musyawarah_id"] or "")
    want["pengkajian_id"] = maybe(rng, rng.choice(kajian))
    page.locator("form.record-form [name=pengkajian_id]").select_option(want["pengkajian_id"] or "")
    want["bidang_code"] = choose(page, rng, "form.record-form [name=bidang_code]")
    want["sub_bidang_code"] = (choose(page, rng, "form.record-form [name=sub_bidang_code]")
                               if want["bidang_code"] else None)
    want["kode_kegiatan"] = fill(page, "kode_kegiatan", text(rng, limit("usulan", "kode_kegiatan")))
    want["lokasi"] = fill(page, "lokasi", text(rng, MAX_FIELD))
    want["dusun_id"] = choose(page, rng, "form.record-form [name=dusun_id]")
    volume = rng.choice([("", None), ("0", 0.0), ("1000000000000", 1e12), ("2,5", 2.5), ("1250.75", 1250.75),
                         (f"{rng.randint(0, 9999)},{rng.randint(0, 99):02}", None)])
    if edges:
        volume = ("1000000000000", 1e12)
    if volume[0] and volume[1] is None:
        volume = (volume[0], float(volume[0].replace(",", ".")))
    fill(page, "volume", volume[0])
    want["volume"] = volume[1]
    want["satuan"] = fill(page, "satuan", text(rng, limit("usulan", "satuan")))
    for name, edge in (("penerima_laki", 10_000_000), ("penerima_perempuan", 0), ("penerima_artm", None)):
        n = edge if edges else rng.choice([None, 0, 10_000_000, rng.randint(1, 5000)])
        fill(page, name, "" if n is None else str(n))
        want[name] = n
    biaya = 10**15 if edges else rng.choice([None, 0, 10**15, rng.randint(1, 10**12)])
    # Typed with the thousands dots a cadre writes (87.500.000); the app keeps the digits.
    fill(page, "biaya", "" if biaya is None else f"{biaya:,}".replace(",", "."))
    want["biaya"] = biaya
    for name in ("sumber_dana", "pola_pelaksanaan"):
        want[name] = choose(page, rng, f"form.record-form [name={name}]")
    sdgs = choose(page, rng, "form.record-form [name=sdgs_desa]")
    want["sdgs_desa"] = int(sdgs) if sdgs else None
    want.update(scores(page, rng))
    want["catatan"] = fill(page, "catatan", text(rng, MAX_FIELD, lines=True))
    before = ids(page, "usulan")
    save(page)
    return saved(page, "usulan", before), want


def shown(value: Any) -> str:
    """A value for a failure message: long text by its length and ends."""
    if isinstance(value, tuple):
        return repr(tuple(shown(v) for v in value))
    if isinstance(value, str) and len(value) > 40:
        return f"{len(value)} chars {value[:12]!r}…{value[-12:]!r}"
    return repr(value)


# --- the test ----------------------------------------------------------------------------------------------


def test_every_field_typed_offline_arrives_on_the_server_as_typed(
        phones, app_on, store: Store, server: LiveServer) -> None:
    seed = int(os.environ.get("KADER_TEST_SEED") or random.SystemRandom().randrange(2**32))
    print(f"KADER_TEST_SEED={seed}")
    rng = random.Random(seed)

    desa = off_loop(store.new_desa, GEROKGAK)  # a desa of its own: what the pull returns is this test's
    kader = off_loop(store.user, "kader", desa)
    admin = Device(server, server.login(*off_loop(store.user, "admin", GEROKGAK)))
    dusun = {}
    for nama in ("Banjar Dinas Pangkung Ṭiṛta", "Dusun ᨅᨚᨆ Bugis"):
        rid = uuid.uuid4()
        [r] = admin.push(mutation("create", "dusun", rid, {"desa_code": desa, "nama": nama, "sebutan": "Dusun"}))
        assert r["status"] == "applied", r
        dusun[nama] = str(rid)

    context = phones()
    context.grant_permissions(["geolocation"])
    # One position per run, the contract's bounds among them: the app takes a fix up to 60 s old
    # (maximumAge), so a point moved between two records would not be a typing round trip.
    place = {"latitude": rng.choice([-90.0, 90.0, round(rng.uniform(-90, 90), 6), -8.1234567]),
             "longitude": rng.choice([-180.0, 180.0, round(rng.uniform(-180, 180), 6), 114.7654321]),
             "accuracy": rng.choice([0.0, 100000.0, round(rng.uniform(1, 50), 2)])}
    context.set_geolocation(place)
    phone: App = app_on(context)
    page = phone.page
    phone.login(*kader)
    phone.context.set_offline(True)
    expect(page.get_by_test_id("net")).to_have_text("Tanpa sinyal")

    typed: dict[str, dict[str, dict[str, Any]]] = {"pengkajian": {}, "musyawarah": {}, "usulan": {}}
    hadir: dict[str, list[tuple]] = {}
    for n in range(RECORDS):  # the first of each form at the edges (longest text, 00:00, 23:59, largest numbers)
        kid, want = pengkajian(page, rng, place, edges=n == 0)
        typed["pengkajian"][kid] = want
    for n in range(RECORDS):
        mid, want, lines = musyawarah(page, rng, dusun, edges=n == 0)
        typed["musyawarah"][mid] = want
        hadir[mid] = lines
    for n in range(RECORDS):
        uid, want = usulan(page, rng, sorted(typed["musyawarah"]), sorted(typed["pengkajian"]), edges=n == 0)
        typed["usulan"][uid] = want
    phone.expect_unsent(RECORDS * (3 + LINES))

    phone.context.set_offline(False)
    phone.expect_unsent(0)
    assert phone.errors == []

    checker = Device(server, server.login(*kader, device="pemeriksa"))
    rows: dict[str, list[dict[str, Any]]] = {}
    for c in checker.pull_all():
        if c["row"] is not None:
            rows.setdefault(c["table"], []).append(c["row"])

    differ = []
    for table in ("pengkajian", "musyawarah", "usulan"):
        got = {r["id"]: r for r in rows.get(table, [])}
        assert sorted(got) == sorted(typed[table]), (seed, table)
        for rid, want in typed[table].items():
            row = got[rid]
            for field, value in want.items():
                stored = row.get(field)
                same = (stored == value if not isinstance(value, float) or stored is None
                        else float(stored) == value)
                if not same:
                    differ.append((table, field, shown(value), shown(stored)))
    for mid, lines in hadir.items():
        got_lines = sorted((r["nama"], r["jenis_kelamin"], r["unsur"], r["dusun_id"])
                           for r in rows.get("kehadiran", []) if r["musyawarah_id"] == mid)
        if got_lines != sorted(lines):
            differ.append(("kehadiran", mid, [shown(x) for x in sorted(lines)], [shown(x) for x in got_lines]))
    assert differ == [], f"seed {seed}: (table, field, typed, stored): {differ}"


@pytest.mark.xfail(strict=True, reason="inputs' maxlength counts UTF-16 units, the server's limit characters: "
                   "text with emoji at the server's limit is cut short by the input (reported, not fixed here)")
def test_text_with_emoji_at_the_servers_limit_arrives_whole(phones, app_on, store: Store, server: LiveServer) -> None:
    """The contract counts characters (code points); 🌾 is one character and two UTF-16 units."""
    desa = off_loop(store.new_desa, GEROKGAK)
    kader = off_loop(store.user, "kader", desa)
    phone: App = app_on(phones())
    page = phone.page
    phone.login(*kader)
    phone.context.set_offline(True)
    page.evaluate("location.hash = '#/usulan/baru'")
    expect(page.get_by_role("heading", name="Usulan baru")).to_be_visible()
    kegiatan = fill(page, "kegiatan", ("Embung \U0001f33e " * 300)[:limit("usulan", "kegiatan")])
    satuan = fill(page, "satuan", "\U0001f33e" * limit("usulan", "satuan"))
    before = ids(page, "usulan")
    save(page)
    uid = saved(page, "usulan", before)
    phone.context.set_offline(False)
    phone.expect_unsent(0)
    checker = Device(server, server.login(*kader, device="pemeriksa"))
    [row] = [c["row"] for c in checker.pull_all() if c["table"] == "usulan" and c["id"] == uid]
    assert (shown(row["kegiatan"]), shown(row["satuan"])) == (shown(kegiatan), shown(satuan))
