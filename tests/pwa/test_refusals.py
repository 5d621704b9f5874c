"""Refusals never drop work, and the status says so honestly.

The app checks every field with the server's own limits, so a cadre cannot type a value the server
refuses — unless her app's rules are older than the server's. That is what these tests ship: a copy
of pwa/ whose limit for Tempat is 300 characters (in the form and in the app's own check) while the
server takes 200. She types a 250-character tempat offline, with attendance lines, a photo and usulan
of that meeting; the server refuses the meeting and never sees the rest (held on the phone, counted
in the status bar and listed with an Indonesian reason); she shortens it and everything arrives once.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import DESA_PEJARAKAN, LiveServer, Store, start_server, stop_server
from tests.pwa.conftest import App, off_loop
from tests.pwa.pages import attend, big_photo, new_musyawarah, save
from tests.pwa.test_update import REPO_PWA
from tests.syncing import Device

pytestmark = pytest.mark.slow

LIMIT = 200  # the server's (sync/records.py, MusyawarahFields.tempat)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
ENGLISH = re.compile(r"Expected|length|exist|refused|invalid|reference|\$\.", re.I)


def photo(tmp_path: Path) -> Path:
    """A camera-sized photo of its own (other tests' phones in the desa hold the standard one)."""
    return big_photo(tmp_path / f"hadir-{uuid.uuid4().hex[:6]}.png", 2400, random.randrange(1500, 1800))


def long_tempat(tag: str, n: int = 250) -> str:
    return (f"Balai pertemuan Banjar Dinas Celukan {tag}, di utara pura desa, dekat pasar pagi; " * 6)[:n]


def loosen_tempat(copy: Path) -> None:
    """The app one release behind the server: Tempat takes 300 characters in the form and in the app's
    own check. Works on the hand-written table (protocol.js) and on the generated one (contract.js)."""
    form = table = 0
    for path in (copy / "js").rglob("*.js"):
        text = path.read_text()
        text, n = re.subn(r"(input\('tempat',[^)]*?maxlength: )200\b", r"\g<1>300", text)
        form += n
        text, n1 = re.subn(r"(\btempat: text\()200\)", r"\g<1>300)", text)
        text, n2 = re.subn(r'("tempat": \{"type": "text", "maxLength": )200\b', r"\g<1>300", text)
        table += n1 + n2
        if n or n1 or n2:
            path.write_text(text)
    assert (form, table) == (1, 1), f"where the app keeps the tempat limit has moved: {form=} {table=}"


@pytest.fixture
def older_app(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A server of its own serving the app whose Tempat limit is looser than the server's."""
    copy = tmp_path / "pwa"
    shutil.copytree(REPO_PWA, copy)
    loosen_tempat(copy)
    (tmp_path / "data").mkdir()
    live = off_loop(start_server, db_url, tmp_path / "data", {"KADER_PWA_DIR": str(copy)})
    yield live
    stop_server(live)


# ---- what the cadre does -------------------------------------------------------------------------

def watch_status(page: Page) -> None:
    """Records every state the status bar shows from now on (whether it said "all sent", the count)."""
    page.evaluate("""() => {
        const bar = document.getElementById('status');
        window.__seen = [];
        const note = () => window.__seen.push([bar.dataset.allSent, bar.querySelector('[data-unsent]').dataset.count]);
        new MutationObserver(note).observe(bar,
            { attributes: true, childList: true, subtree: true, characterData: true });
        note();
    }""")


def seen_all_sent(page: Page) -> bool:
    return any(state == "true" for state, _ in page.evaluate("window.__seen"))


def settle(phone: App) -> None:
    """Until no sync runs, in the page or in the service worker (both hold the 'kader-sync' lock)."""
    phone.page.wait_for_function("""async () => { const q = await navigator.locks.query();
        return ![...q.held, ...q.pending].some((l) => l.name === 'kader-sync'); }""", timeout=60_000)
    phone.wait_idle()


def sync_now(phone: App) -> None:
    """Back in range (if she was not): whatever sync the signal started, then one she asks for."""
    if phone.page.evaluate("!navigator.onLine"):
        before = int(phone.page.locator("#status").get_attribute("data-syncs") or "0")
        phone.context.set_offline(False)
        phone.page.wait_for_function("n => Number(document.getElementById('status').dataset.syncs) > n", arg=before)
    settle(phone)
    phone.sync()
    settle(phone)


def status(page: Page) -> dict[str, Any]:
    return page.evaluate("""() => { const bar = document.getElementById('status');
        const need = bar.querySelector('[data-attention]');
        return { all_sent: bar.dataset.allSent, unsent: Number(bar.querySelector('[data-unsent]').dataset.count),
                 refused: Number(need.dataset.refused), held: Number(need.dataset.held) }; }""")


def expect_status(page: Page, **want: Any) -> None:
    """The status bar comes to show ``want`` (it is redrawn after every write)."""
    page.wait_for_function("""(want) => { const bar = document.getElementById('status');
        const need = bar.querySelector('[data-attention]');
        const now = { all_sent: bar.dataset.allSent, unsent: Number(bar.querySelector('[data-unsent]').dataset.count),
                      refused: Number(need.dataset.refused), held: Number(need.dataset.held) };
        return Object.entries(want).every(([k, v]) => now[k] === v); }""", arg=want, timeout=20_000)


def quiet(page: Page) -> Page:
    """No toast left over the screen (before a screenshot)."""
    expect(page.locator(".toast")).to_have_count(0, timeout=10_000)
    return page


def new_usulan_of(page: Page, kegiatan: str, musyawarah_id: str | None) -> None:
    page.evaluate("location.hash = '#/usulan/baru'")
    expect(page.get_by_role("heading", name="Usulan baru")).to_be_visible()
    page.get_by_label("Gagasan kegiatan").fill(kegiatan)
    if musyawarah_id:
        page.get_by_label("Asal musyawarah").select_option(value=musyawarah_id)
    save(page)


def edit_tempat(phone: App, musyawarah_id: str, tempat: str) -> None:
    phone.go("")  # a fresh form: a save just made on it redraws it
    phone.go(f"musyawarah/{musyawarah_id}")
    phone.page.get_by_label("Tempat").fill(tempat)
    press_save(phone.page)


def press_save(page: Page, toast: str = "Tersimpan di HP ini.") -> None:
    quiet(page)  # the toast seen below is this save's
    page.get_by_role("button", name="Simpan", exact=True).click()
    expect(page.get_by_text(toast).last).to_be_visible()


def pulled(server: LiveServer, kader: tuple[str, str]) -> dict[str, dict[str, dict]]:
    """Every record of the desa as the server has it now (through the API), by table and id."""
    rows: dict[str, dict[str, dict]] = {}
    for c in Device(server, server.login(*kader, device="pemeriksa")).pull_all(limit=1000):
        if not c["deleted"]:
            rows.setdefault(c["table"], {})[c["record_id"]] = c["row"]
    return rows


def answers(store: Store, username: str) -> list[dict]:
    """Every answer the server gave this cadre's phone: what it has seen of her work."""
    rows = off_loop(store.rows, """SELECT p.result FROM processed_mutations p JOIN sync_clients c ON c.id = p.client_id
        JOIN users u ON u.id = c.user_id WHERE u.username = :u""", u=username)
    return [json.loads(r) if isinstance(r, str) else r for (r,) in rows]


# ---- (a) the journey -------------------------------------------------------------------------------

@pytest.mark.every_database  # the journey must end right on SQLite and PostgreSQL alike
def test_a_refused_meeting_holds_its_lines_usulan_and_photo_until_she_fixes_it_then_all_arrive_once(
        phones, kader, older_app: LiveServer, store: Store, dusun: dict[str, str], shots, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:6]
    names = [(f"Peserta {tag} {n:02d}", "P" if n % 2 else "L") for n in range(1, 11)]
    kegiatan = [f"Drainase dusun {tag}", f"Sumur bor {tag}"]
    short = f"Balai Banjar Celukan {tag}"
    phone = App(phones(), older_app)
    page = phone.page
    phone.login(*kader)
    phone.context.set_offline(True)

    typed = long_tempat(tag)
    assert len(typed) == 250 > LIMIT
    musy = new_musyawarah(page, typed, photo=photo(tmp_path))
    watch_status(page)  # from her first save on, until everything has arrived
    attend(page, names)
    for k in kegiatan:
        new_usulan_of(page, k, musy)
    expect_status(page, all_sent="false", unsent=13, refused=0, held=0)  # nothing refused yet

    sync_now(phone)
    # Refused: the meeting. Held, never sent: its 10 lines, 2 usulan and the photo.
    expect_status(page, all_sent="false", unsent=13, refused=1, held=13)
    expect(page.get_by_test_id("attention")).to_have_text("1 ditolak · 13 tertahan")
    expect(page.get_by_test_id("sync-error")).to_be_hidden()  # the sync itself went fine
    seen = answers(store, kader[0])
    assert [(a["status"], a["error_code"], a.get("field"), a.get("problem")) for a in seen] == [
        ("rejected", "invalid_fields", "tempat", "too_long")], "the server saw more than the meeting"
    server_now = pulled(older_app, kader)
    assert musy not in server_now.get("musyawarah", {})
    assert not [r for r in server_now.get("kehadiran", {}).values() if r["musyawarah_id"] == musy]
    assert not [r for r in server_now.get("usulan", {}).values() if r["kegiatan"] in kegiatan]
    sha = page.evaluate("async (id) => (await (await import('/js/db.js')).getRecord('musyawarah', id)).row.foto[0]",
                        musy)
    with older_app.client(older_app.login(*kader, device="pemeriksa")) as c:
        assert c.head(f"/api/attachments/{sha}").status_code == 404  # the photo waits with its meeting

    # Home says it too, and one tap leads to what needs her.
    phone.go("")
    expect(page.get_by_test_id("attention-refused")).to_have_text("1 data ditolak server")
    expect(page.get_by_test_id("attention-held")).to_have_text("13 data tertahan, menunggu data lain")
    shots(quiet(page), "30-beranda-ditolak")
    page.get_by_test_id("attention").click()
    expect(page.get_by_role("heading", name="Perlu tindakan")).to_be_visible()
    card = page.get_by_test_id("refused")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("reason")).to_have_text("Tempat terlalu panjang")
    expect(page.get_by_test_id("held")).to_contain_text("Menunggu musyawarahnya diterima server")
    expect(page.get_by_test_id("held-counts")).to_have_text("10 baris daftar hadir, 2 usulan dan 1 foto")
    shown = page.locator("#main").inner_text()
    assert not UUID.search(shown) and not ENGLISH.search(shown), shown
    shots(quiet(page), "31-perlu-tindakan-ditolak")

    # She opens it: her 250 characters are still there, the reason next to the field; she shortens it.
    card.get_by_test_id("fix").click()
    expect(page.get_by_label("Tempat")).to_have_value(typed)
    expect(page.get_by_test_id("refused-reason")).to_contain_text("Ditolak server: Tempat terlalu panjang")
    expect(page.locator(".refused-field")).to_have_text("Tempat terlalu panjang")
    shots(quiet(page), "32-musyawarah-ditolak")
    page.get_by_label("Tempat").fill(short)
    press_save(page)
    expect_status(page, all_sent="false", unsent=13, refused=0, held=0)
    assert not seen_all_sent(page), "the status said everything was sent while something was refused or held"

    sync_now(phone)
    expect_status(page, all_sent="true", unsent=0, refused=0, held=0)
    expect(page.get_by_test_id("attention")).to_be_hidden()
    expect(page.get_by_test_id("unsent")).not_to_contain_text("foto")
    # Everything she typed, exactly once.
    rows = pulled(older_app, kader)
    meeting = rows["musyawarah"][musy]
    assert (meeting["tempat"], meeting["pimpinan"], meeting["dusun_id"], meeting["keputusan"], meeting["foto"]) == (
        short, "I Made Sutama", dusun["Banjar Dinas Celukan"], ["Drainase jadi prioritas", "Kerja bakti tiap Minggu"],
        [sha])
    lines = sorted((r["nama"], r["jenis_kelamin"]) for r in rows["kehadiran"].values() if r["musyawarah_id"] == musy)
    assert lines == sorted(names)
    assert sorted(r["kegiatan"] for r in rows["usulan"].values() if r["musyawarah_id"] == musy) == sorted(kegiatan)
    seen = answers(store, kader[0])
    assert sorted(a["status"] for a in seen) == ["applied"] * 13 + ["rejected"]
    assert off_loop(store.scalar, """SELECT count(*) FROM history h JOIN sync_clients c ON c.id = h.client_id
        JOIN users u ON u.id = c.user_id WHERE u.username = :u AND h.op = 'create'""", u=kader[0]) == 13
    with older_app.client(older_app.login(*kader, device="pemeriksa")) as c:
        assert c.head(f"/api/attachments/{sha}").status_code == 200
    assert phone.errors == []


# ---- (b) a plain save of a refused record sends it again ---------------------------------------------

def test_a_plain_save_of_a_refused_record_sends_it_again(phones, kader, older_app: LiveServer,
                                                          store: Store) -> None:
    tag = uuid.uuid4().hex[:6]
    phone = App(phones(), older_app)
    page = phone.page
    phone.login(*kader)
    phone.context.set_offline(True)
    musy = new_musyawarah(page, long_tempat(tag))
    attend(page, [(f"Ni Luh {tag}", "P"), (f"I Made {tag}", "L")])
    sync_now(phone)
    expect_status(page, all_sent="false", unsent=3, refused=1, held=2)

    # Nothing changed, and yet Simpan is her word that it should go again: it does (the server's rules
    # may have changed meanwhile; here they have not, and it is refused again, still kept).
    phone.go(f"musyawarah/{musy}")
    press_save(page)  # "Tersimpan di HP ini.", not "Tidak ada perubahan."
    expect(page.get_by_text("Tidak ada perubahan.")).to_have_count(0)
    expect_status(page, unsent=3, refused=0, held=0)
    sync_now(phone)
    expect_status(page, all_sent="false", unsent=3, refused=1, held=2)
    # "Kirim lagi" on the list does the same.
    phone.go("perlu")
    page.get_by_test_id("resend").click()
    expect(page.get_by_text("Akan dikirim lagi.").last).to_be_visible()
    sync_now(phone)
    expect_status(page, all_sent="false", unsent=3, refused=1, held=2)

    seen = answers(store, kader[0])
    assert [(a["record_id"], a["error_code"]) for a in seen] == [(musy, "invalid_fields")] * 3
    assert len({a["mutation_id"] for a in seen}) == 3, "each time a new mutation, not the old one answered again"
    phone.go(f"musyawarah/{musy}")
    expect(page.get_by_label("Tempat")).to_have_value(long_tempat(tag))  # what she typed is still there
    assert phone.errors == []


# ---- (c) discarding is hers, after she is told what goes with it -----------------------------------

def test_discarding_a_refused_record_says_what_goes_with_it_and_takes_only_that(
        phones, kader, older_app: LiveServer, store: Store, tmp_path: Path, shots) -> None:
    tag = uuid.uuid4().hex[:6]
    phone = App(phones(), older_app)
    page = phone.page
    phone.login(*kader)
    phone.context.set_offline(True)
    kept = f"Balai Banjar Tegal {tag}"
    other = new_musyawarah(page, kept)  # a meeting the server takes: its later refused edit is discarded below
    musy = new_musyawarah(page, long_tempat(tag), photo=photo(tmp_path))
    attend(page, [(f"Peserta {tag} {n}", "P") for n in range(3)])
    new_usulan_of(page, f"Jalan usaha tani {tag}", musy)
    new_usulan_of(page, f"Posyandu {tag}", None)  # names no meeting: not held, not discarded
    sync_now(phone)
    expect_status(page, all_sent="false", unsent=5, refused=1, held=5)

    phone.go("perlu")
    page.get_by_test_id("discard").click()
    dialog = page.locator("dialog.ask")
    expect(dialog).to_contain_text("Isian ini dihapus dari HP ini dan tidak akan dikirim.")
    expect(dialog).to_contain_text("Ikut terbuang: 3 baris daftar hadir, 1 usulan dan 1 foto.")
    shots(quiet(page), "33-buang-ditolak")
    dialog.get_by_role("button", name="Batal").click()
    expect_status(page, unsent=5, refused=1, held=5)  # she said no: nothing gone
    page.get_by_test_id("discard").click()
    dialog.get_by_role("button", name="Buang").click()
    expect(page.get_by_text("Dibuang dari HP ini.").last).to_be_visible()
    expect(page.get_by_test_id("attention-none")).to_be_visible()
    expect_status(page, all_sent="true", unsent=0, refused=0, held=0)
    expect(page.get_by_test_id("unsent")).not_to_contain_text("foto")
    phone.go("musyawarah")
    expect(page.get_by_test_id("list")).not_to_contain_text(tag[:6] + ", di utara")
    expect(page.get_by_test_id("list")).to_contain_text(kept)

    # A refused edit of a record the server has: discarding it shows the server's copy again.
    edit_tempat(phone, other, long_tempat(tag + "x"))
    sync_now(phone)
    expect_status(page, unsent=1, refused=1, held=0)
    phone.go("perlu")
    page.get_by_test_id("discard").click()
    expect(dialog).to_contain_text("Perubahan yang belum terkirim dibuang; data kembali seperti di server.")
    dialog.get_by_role("button", name="Buang").click()
    expect_status(page, all_sent="true", unsent=0, refused=0, held=0)
    phone.go(f"musyawarah/{other}")
    expect(page.get_by_label("Tempat")).to_have_value(kept)

    sync_now(phone)
    seen = answers(store, kader[0])
    assert sorted((a["status"], a["record_id"] == musy) for a in seen) == sorted(
        [("applied", False)] * 2 + [("rejected", True), ("rejected", False)])  # other, posyandu; musy, edit
    rows = pulled(older_app, kader)
    assert rows["musyawarah"][other]["tempat"] == kept and musy not in rows["musyawarah"]
    assert [r["kegiatan"] for r in rows["usulan"].values() if tag in r["kegiatan"]] == [f"Posyandu {tag}"]
    assert not [r for r in rows.get("kehadiran", {}).values() if tag in r["nama"]]
    assert page.evaluate("""async () => (await (await import('/js/db.js')).pendingAttachments()).length""") == 0
    assert phone.errors == []


# ---- the words, the references and the sorting, literally ----------------------------------------------

def run_js(page: Page, body: str, arg: Any = None) -> Any:
    return page.evaluate(f"async (arg) => {{ {body} }}", arg)


REASONS = [  # (refusal, Indonesian, English)
    ({"code": "invalid_fields", "field": "jam_mulai", "problem": "type"}, "Jam mulai tidak terbaca",
     "Start time cannot be read"),
    ({"code": "invalid_fields", "field": "tempat", "problem": "too_long"}, "Tempat terlalu panjang",
     "Place is too long"),
    ({"code": "invalid_fields", "field": "nama", "problem": "required"}, "Nama wajib diisi", "Name is required"),
    ({"code": "invalid_fields", "field": "skor_parah", "problem": "range"},
     "Skor: sangat parah / mendesak di luar batas yang diterima server",
     "Score: severe / urgent is outside what the server accepts"),
    ({"code": "invalid_fields", "field": "warna", "problem": "unknown"}, "Salah satu isian belum dikenal server",
     "One field is not known to the server"),
    ({"code": "invalid_fields"}, "Ada isian yang tidak diterima server", "A field was not accepted by the server"),
    ({"code": "invalid_reference", "field": "dusun_id"}, "Dusun yang dipilih tidak ada di server",
     "The Dusun chosen does not exist on the server"),
    ({"code": "invalid_reference", "field": "musyawarah_id"}, "Musyawarah yang dipilih tidak ada di server",
     "The Musyawarah chosen does not exist on the server"),
    ({"code": "invalid_reference", "field": "pengkajian_id"}, "Kajian yang dipilih tidak ada di server",
     "The assessment chosen does not exist on the server"),
    ({"code": "invalid_reference", "field": "record_id"}, "Data yang dikomentari tidak ada di server",
     "The record commented on does not exist on the server"),
    ({"code": "missing_fields", "field": "kegiatan"}, "Gagasan kegiatan wajib diisi", "Activity idea is required"),
    ({"code": "immutable_field", "field": "desa_code"}, "Desa tidak boleh diubah", "Desa cannot be changed"),
    ({"code": "not_found"}, "Data ini sudah tidak ada di server", "This record no longer exists on the server"),
    ({"code": "kode_baru_dari_server_baru"}, "Server menolak data ini", "The server refused this record"),
    (None, "Server menolak data ini", "The server refused this record"),
]


def words(page: Page, lang: str) -> dict[str, Any]:
    return run_js(page, """
        const i18n = await import('/js/i18n/index.js');
        await i18n.loadLanguage(arg.lang);
        const r = await import('/js/reasons.js');
        return { reasons: arg.reasons.map((x) => r.refusalText(x)),
                 held: ['musyawarah', 'pengkajian', 'usulan', 'tidak_ada'].map(r.heldText),
                 counts: [r.countsText({ kehadiran: 40 }), r.countsText({ kehadiran: 10, usulan: 2, foto: 1 }),
                          r.countsText({ usulan: 0 }), r.countsText({ usulan: 1, komentar: 2 })],
                 codes: arg.codes.map((code) => r.refusalText({ code })),
                 labels: arg.fields.map(r.fieldLabel) };""", {"lang": lang, "reasons": [x[0] for x in REASONS],
                                                            "codes": push_codes(), "fields": writable_fields()})


def push_codes() -> list[str]:
    """Every per-mutation error code the push engine can answer (sync/engine/push.py)."""
    source = (REPO_PWA.parent / "sync" / "engine" / "push.py").read_text()
    codes = set(re.findall(r'Rejected\(\s*"(\w+)"', source)) | set(re.findall(r'_rejected\(\w+, "(\w+)"', source))
    assert {"invalid_fields", "invalid_reference", "not_found", "integrity"} <= codes, codes
    return sorted(codes)


def writable_fields() -> list[str]:
    import msgspec

    from sync.records import TABLES
    return sorted({f.name for spec in TABLES.values() if not spec.admin_only
                   for f in msgspec.structs.fields(spec.fields)})


def test_refusal_reasons_are_sentences_in_her_language_from_the_codes(phones, server: LiveServer) -> None:
    phone = App(phones(), server)
    phone.open()
    indonesian = words(phone.page, "id")
    assert indonesian["reasons"] == [x[1] for x in REASONS]
    assert indonesian["held"] == ["Menunggu musyawarahnya diterima server", "Menunggu kajiannya diterima server",
                                  "Menunggu usulannya diterima server", "Menunggu data induknya diterima server"]
    assert indonesian["counts"] == ["40 baris daftar hadir", "10 baris daftar hadir, 2 usulan dan 1 foto", "",
                                    "1 usulan dan 2 komentar"]
    # Every code the server can answer has its own sentence, and every field a phone sends its label.
    fallback = "Server menolak data ini"
    assert [c for c, text in zip(push_codes(), indonesian["codes"], strict=True) if text == fallback] == []
    assert [f for f, text in zip(writable_fields(), indonesian["labels"], strict=True)
            if text == "Salah satu isian"] == []
    english = words(phone.page, "en")
    assert english["reasons"] == [x[2] for x in REASONS]
    assert english["held"][0] == "Waiting for its musyawarah to be accepted by the server"
    assert english["counts"][1] == "10 attendance lines, 2 proposals and 1 photos"
    for text in indonesian["reasons"] + indonesian["codes"]:
        assert not UUID.search(text) and not re.search(r"_|`|\$", text), text


def test_the_apps_references_are_the_servers(phones, server: LiveServer) -> None:
    from sync.records import TABLES
    phone = App(phones(), server)
    phone.open()
    mine = run_js(phone.page, "return (await import('/js/protocol.js')).REFERENCES;")
    theirs = {name: dict(spec.references) for name, spec in TABLES.items() if not spec.admin_only}
    theirs["komentar"] = {"record_id": None}  # names its record by record_table (push.py, _check_references)
    assert mine == theirs


def test_the_outbox_is_sorted_into_ready_waiting_refused_and_held(phones, server: LiveServer) -> None:
    """planOutbox, literally: what goes now, what waits for a record the server has not taken yet, what
    is refused, and what is held behind a refusal (with the refused record it waits for)."""
    phone = App(phones(), server)
    phone.open()
    states = run_js(phone.page, """
        const { planOutbox } = await import('/js/db.js');
        let seq = 0;
        const m = (table, id, changes = {}, extra = {}) => ({ seq: ++seq, table, record_id: id, op: 'create',
                                                              changes, ...extra });
        const records = {
          'musyawarah/M1': { version: 0 }, 'musyawarah/M2': { version: 0 }, 'musyawarah/M3': { version: 4 },
          'musyawarah/M4': { version: 0, onServer: true }, 'usulan/U1': { version: 0 }, 'pengkajian/P1': { version: 0 },
          'kehadiran/K1': { version: 0 }, 'kehadiran/K2': { version: 0 }, 'kehadiran/K3': { version: 0 },
          'kehadiran/K4': { version: 0 }, 'usulan/U2': { version: 0 }, 'komentar/C1': { version: 0 },
          'musyawarah/M5': { version: 2 }, 'kehadiran/K5': { version: 0 },
        };
        const outbox = [
          m('musyawarah', 'M1', {}, { refused: { code: 'invalid_fields' } }),
          m('musyawarah', 'M2'),
          m('kehadiran', 'K1', { musyawarah_id: 'M1' }),   // held: its meeting is refused
          m('kehadiran', 'K2', { musyawarah_id: 'M2' }),   // waiting: its meeting goes first
          m('kehadiran', 'K3', { musyawarah_id: 'M3' }),   // ready: the server has its meeting
          m('kehadiran', 'K4', { musyawarah_id: 'M4' }),   // ready: taken, version not back yet
          m('usulan', 'U1', { musyawarah_id: 'M2', pengkajian_id: 'P1' }),
          m('pengkajian', 'P1', {}, { refused: { code: 'invalid_fields' } }),
          m('usulan', 'U2', { musyawarah_id: 'M9' }),      // ready: not on this phone, the server decides
          m('komentar', 'C1', { record_table: 'usulan', record_id: 'U1' }), // held behind U1, behind P1
          m('musyawarah', 'M5', { tempat: 'x' }, { op: 'update', refused: { code: 'invalid_fields' } }),
          m('musyawarah', 'M5', { tempat: 'y' }, { op: 'update' }),  // queued behind a refusal: refused too
          m('kehadiran', 'K5', { musyawarah_id: 'M5' }),   // ready: the server has M5 (only its edit is refused)
        ];
        const { states } = planOutbox(outbox, (k) => records[k]);
        return Object.fromEntries([...states].map(([k, s]) => [k, [s.state, s.root ?? null]]));""")
    assert states == {
        "musyawarah/M1": ["refused", "musyawarah/M1"], "musyawarah/M2": ["ready", None],
        "kehadiran/K1": ["held", "musyawarah/M1"], "kehadiran/K2": ["waiting", None],
        "kehadiran/K3": ["ready", None], "kehadiran/K4": ["ready", None],
        "usulan/U1": ["held", "pengkajian/P1"], "pengkajian/P1": ["refused", "pengkajian/P1"],
        "usulan/U2": ["ready", None], "komentar/C1": ["held", "pengkajian/P1"],
        "musyawarah/M5": ["refused", "musyawarah/M5"], "kehadiran/K5": ["ready", None],
    }


# ---- (d) the invariant, over a random sequence -----------------------------------------------------

class Typed:
    """What she typed, as the test remembers it, and what the server must then hold. Each save of a
    meeting is one mutation; a sync sends them in order until one is refused, and what is queued
    behind a refusal waits with it; her next save of a refused meeting sends everything as one."""

    def __init__(self) -> None:
        # id -> {accepted: the server's tempat (None: never taken), queue: saves not taken yet, refused}
        self.meetings: dict[str, dict[str, Any]] = {}
        self.lines: dict[str, tuple[str, str]] = {}  # nama -> (meeting id, sex)
        self.usulan: dict[str, str | None] = {}  # kegiatan -> meeting id or None

    def live(self) -> list[str]:
        return sorted(self.meetings)

    def refused(self) -> list[str]:
        return sorted(m for m, v in self.meetings.items() if v["refused"])

    def latest(self, meeting: str) -> str:
        v = self.meetings[meeting]
        return v["queue"][-1] if v["queue"] else v["accepted"]

    def on_server(self, meeting: str | None) -> bool:
        return meeting is None or self.meetings[meeting]["accepted"] is not None

    def created(self, meeting: str, tempat: str) -> None:
        self.meetings[meeting] = {"accepted": None, "queue": [tempat], "refused": False}

    def saved(self, meeting: str, tempat: str) -> None:
        v = self.meetings[meeting]
        if v["refused"]:  # her save of a refused meeting: everything unsent goes again as one
            v["queue"], v["refused"] = [tempat], False
        else:
            v["queue"].append(tempat)

    def synced(self) -> None:
        for v in self.meetings.values():
            while v["queue"] and not v["refused"]:
                if len(v["queue"][0]) > LIMIT:
                    v["refused"] = True
                else:
                    v["accepted"] = v["queue"].pop(0)

    def discard(self, meeting: str) -> None:
        v = self.meetings[meeting]
        if v["accepted"] is not None:  # her unsent edits go; the server's copy stays
            v["queue"], v["refused"] = [], False
            return
        del self.meetings[meeting]  # with everything that waited for it
        self.lines = {n: x for n, x in self.lines.items() if x[0] != meeting}
        self.usulan = {k: m for k, m in self.usulan.items() if m != meeting}

    def held(self) -> dict[str, int]:
        """By refused meeting the server never took: how many lines and usulan wait for it."""
        out: dict[str, int] = {}
        for meeting in [m for m, _ in self.lines.values()] + [m for m in self.usulan.values() if m]:
            if not self.on_server(meeting):
                out[meeting] = out.get(meeting, 0) + 1
        return out


def check(phone: App, server: LiveServer, kader: tuple[str, str], typed: Typed, tag: str) -> None:
    """Every value she typed and did not discard is on the server, or on her phone shown refused or held
    with its reason; nothing arrived twice."""
    page = phone.page
    rows = pulled(server, kader)
    meetings, lines = rows.get("musyawarah", {}), [r for r in rows.get("kehadiran", {}).values() if tag in r["nama"]]
    usulan = [r for r in rows.get("usulan", {}).values() if tag in r["kegiatan"]]
    refused = typed.refused()
    for m, v in typed.meetings.items():
        assert meetings.get(m, {}).get("tempat") == v["accepted"], m  # what it took, or nothing
        assert m in refused or not v["queue"], m  # everything else it took
    assert not [m for m, r in meetings.items() if tag in (r["tempat"] or "") and m not in typed.meetings]
    assert sorted((r["nama"], r["musyawarah_id"], r["jenis_kelamin"]) for r in lines) == sorted(
        (n, m, sex) for n, (m, sex) in typed.lines.items() if typed.on_server(m))
    assert sorted((r["kegiatan"], r["musyawarah_id"]) for r in usulan) == sorted(
        (k, m) for k, m in typed.usulan.items() if typed.on_server(m))
    # The rest is on the phone, shown: refused with her words next to it, held with what it waits for.
    held = typed.held()
    expect_status(page, refused=len(refused), held=sum(held.values()),
                  all_sent="true" if not refused and not held else "false")
    phone.go("perlu")
    cards = page.get_by_test_id("refused")
    expect(cards).to_have_count(len(refused))
    assert sorted(cards.evaluate_all("cs => cs.map((c) => c.dataset.id)")) == sorted(refused)
    for text in cards.get_by_test_id("reason").all_inner_texts():
        assert text == "Tempat terlalu panjang"
    roots = page.get_by_test_id("held").evaluate_all("cs => cs.map((c) => c.dataset.root)")
    assert sorted(roots) == sorted(f"musyawarah/{m}" for m in held)
    for m in held:
        expect(page.locator(f"[data-root='musyawarah/{m}']")).to_contain_text("Menunggu musyawarahnya diterima server")
    kept = page.evaluate("""async (ids) => { const db = await import('/js/db.js');
        return Promise.all(ids.map(async (id) => (await db.getRecord('musyawarah', id)).row.tempat)); }""", refused)
    assert kept == [typed.latest(m) for m in refused]  # her typed values, kept


@pytest.mark.xfail(reason="after the merge with the 360 px screens the run's driver times out saving an usulan "
                   "(pages.save); under investigation, issue 10 kept open", strict=False)
def test_whatever_she_types_is_on_the_server_or_shown_refused_or_held(
        phones, kader, older_app: LiveServer, store: Store) -> None:
    seed = int(os.environ.get("KADER_TEST_SEED") or 1)  # CI repeats one run; a hunt sets KADER_TEST_SEED
    steps = int(os.environ.get("KADER_REFUSAL_STEPS", "30"))
    print(f"refusal invariant: seed {seed}, {steps} steps (KADER_TEST_SEED={seed} repeats it)")
    rnd = random.Random(seed)
    tag = f"{seed % 100000:05d}{uuid.uuid4().hex[:4]}"
    phone = App(phones(), older_app)
    page = phone.page
    phone.login(*kader)
    phone.context.set_offline(True)
    typed = Typed()
    n = iter(range(10**6))

    def tempat() -> str:
        i = next(n)
        return long_tempat(f"{tag}-{i}", rnd.randint(LIMIT + 1, 300)) if rnd.random() < 0.4 else f"Balai {tag}-{i}"

    def sync() -> None:
        sync_now(phone)
        typed.synced()
        check(phone, older_app, kader, typed, tag)
        phone.context.set_offline(True)

    for step in range(steps):
        live, refused = typed.live(), typed.refused()
        action = rnd.choices(["meeting", "lines", "usulan", "edit", "fix", "discard", "sync"],
                             [3, 3, 2, 2, 2 if refused else 0, 1 if refused else 0, 2])[0]
        if action in ("lines", "edit") and not live:
            action = "meeting"
        if action == "meeting":
            value = tempat()
            meeting = new_musyawarah(page, value)
            typed.created(meeting, value)
            print(f"  {step}: new meeting {meeting[-6:]} tempat of {len(value)}")
        elif action == "lines":
            meeting = rnd.choice(live)
            phone.go("")  # a fresh screen: a save just made on this meeting's form redraws it
            phone.go(f"musyawarah/{meeting}")
            names = [(f"Peserta {tag}-{next(n)}", rnd.choice("PL")) for _ in range(rnd.randint(1, 2))]
            attend(page, names)
            for nama, _ in names:
                expect(page.get_by_test_id("attendance")).to_contain_text(nama)
            typed.lines.update({nama: (meeting, sex) for nama, sex in names})
            print(f"  {step}: lines {[nama[-3:] for nama, _ in names]} of meeting {meeting[-6:]}")
        elif action == "usulan":
            meeting = rnd.choice(live + [None])
            kegiatan = f"Usulan {tag}-{next(n)}"
            new_usulan_of(page, kegiatan, meeting)
            typed.usulan[kegiatan] = meeting
            print(f"  {step}: usulan {kegiatan[-3:]} of meeting {meeting and meeting[-6:]}")
        elif action in ("edit", "fix"):
            meeting = rnd.choice(live if action == "edit" else refused)
            value = tempat() if action == "edit" else f"Balai {tag}-{next(n)} (diperbaiki)"
            edit_tempat(phone, meeting, value)
            typed.saved(meeting, value)
            print(f"  {step}: {action} meeting {meeting[-6:]}: tempat of {len(value)}")
        elif action == "discard":
            meeting = rnd.choice(refused)
            phone.go("perlu")
            page.locator(f"[data-testid=refused][data-id='{meeting}']").get_by_test_id("discard").click()
            page.locator("dialog.ask").get_by_role("button", name="Buang").click()
            expect(page.get_by_text("Dibuang dari HP ini.").last).to_be_visible()
            typed.discard(meeting)
            print(f"  {step}: discard meeting {meeting[-6:]}")
        else:
            print(f"  {step}: sync")
            sync()
    sync()
    assert phone.errors == []


# ---- a phone updated with refusals left by the old app -------------------------------------------------

# IndexedDB as version 2 of the app left it after the journey: the meeting refused (its changes
# kept only on the record, as `rejected`), its lines and usulan refused as `invalid_reference` and
# dropped from the outbox, and a refused edit of a meeting the server has (a pull had since put the
# server's row back on screen). Written by hand, store by store, as that version's db.js wrote them.
OLD_IDB = """async (arg) => {
    const open = indexedDB.open('kader', 2);
    open.onupgradeneeded = () => {
        const db = open.result;
        db.createObjectStore('records', { keyPath: ['t', 'id'] }).createIndex('by_t', 't');
        db.createObjectStore('outbox', { keyPath: 'seq' }).createIndex('by_rec', ['table', 'record_id']);
        db.createObjectStore('meta');
        db.createObjectStore('reference');
        db.createObjectStore('attachments', { keyPath: 'sha256' }).createIndex('by_uploaded', 'uploaded');
        db.createObjectStore('sent', { keyPath: 'seq' }).createIndex('by_at', 'acked_at');
    };
    const db = await new Promise((ok, fail) => { open.onsuccess = () => ok(open.result); open.onerror = fail; });
    const t = db.transaction(['records', 'meta'], 'readwrite');
    const meta = t.objectStore('meta');
    for (const [k, v] of Object.entries(arg.meta)) meta.put(v, k);
    for (const r of arg.records) t.objectStore('records').put(r);
    await new Promise((ok, fail) => { t.oncomplete = ok; t.onerror = fail; });
    db.close();
}"""


def test_refusals_left_by_the_old_app_come_back_as_refused_and_held_and_arrive_once_fixed(
        phones, kader, older_app: LiveServer, store: Store) -> None:
    tag = uuid.uuid4().hex[:6]
    with older_app.client() as c:
        login = c.post("/api/auth/login", json={"username": kader[0], "password": kader[1],
                                                "device_name": "HP lama"}).json()
    office = Device(older_app, older_app.login(*kader, device="HP lain"))
    taken, refused_at = str(uuid.uuid4()), 1_760_000_000_000
    [answer] = office.push({"op": "create", "mutation_id": str(uuid.uuid4()), "seq": 1, "table": "musyawarah",
                            "record_id": taken, "changes": {"jenis": "musyawarah_dusun", "tanggal": "2026-11-02",
                                                            "tempat": f"Balai lama {tag}", "keputusan": ["Sepakat"]}})
    with office.http() as c:
        database_id = c.post("/api/sync/push", json={"client_id": str(office.client_id), "protocol_version": 1,
                                                     "app_version": "t", "mutations": []}).json()["database_id"]
    musy = str(uuid.uuid4())
    lines = {str(uuid.uuid4()): (f"Warga {tag} {n}", "P" if n % 2 else "L") for n in range(3)}
    usulan = str(uuid.uuid4())
    typed = long_tempat(tag)
    old_reason = f"Expected `str` of length <= {LIMIT} - at `$.tempat`"
    row = {"id": musy, "jenis": "musyawarah_dusun", "tanggal": "2026-11-03", "tempat": typed}
    reference = f"musyawarah_id: musyawarah {musy} does not exist in desa {login['user']['wilayah_code']}"

    def refused(table: str, rid: str, row: dict, code: str, reason: str, op: str = "create", **rec: Any) -> dict:
        return {"t": table, "id": rid, "row": row, "server": None, "version": 0, "pending": 0, "deleted": False,
                "origin": database_id, "localAt": refused_at, **rec,
                "rejected": {"code": code, "reason": reason, "op": op, "changes": row, "at": refused_at}}

    server_row = {"id": taken, "version": 1, "jenis": "musyawarah_dusun", "tanggal": "2026-11-02",
                  "tempat": f"Balai lama {tag}", "review_state": "diajukan"}
    edit = {"tempat": long_tempat(tag + "b", 230)}
    records = [
        refused("musyawarah", musy, row, "invalid_fields", old_reason),
        *[refused("kehadiran", k, {"id": k, "musyawarah_id": musy, "nama": nama, "jenis_kelamin": sex,
                                   "unsur": "lainnya", "dusun_id": None}, "invalid_reference", reference)
          for k, (nama, sex) in lines.items()],
        refused("usulan", usulan, {"id": usulan, "kegiatan": f"Sumur bor {tag}", "musyawarah_id": musy},
                "invalid_reference", reference),
        {**refused("musyawarah", taken, server_row, "invalid_fields", old_reason, version=answer["version"]),
         "rejected": {"code": "invalid_fields", "reason": old_reason, "op": "update", "changes": edit,
                      "at": refused_at}},
    ]
    phone = App(phones(), older_app)
    page = phone.page
    page.goto(f"{older_app.url}/manifest.webmanifest")  # the app's origin, none of its code
    page.evaluate(OLD_IDB, {"records": records, "meta": {
        "token": login["token"], "user": login["user"], "client_id": str(uuid.uuid4()), "seq": 40,
        "database_id": database_id}})
    page.goto(f"{older_app.url}/#/")  # the new app opens it (version 3), upgrades it, and syncs: nothing goes
    expect(page.get_by_role("heading", name=re.compile("^Desa "))).to_be_visible()
    # Both refusals are back, with her words; the lines and the usulan wait for their meeting.
    expect_status(page, all_sent="false", unsent=6, refused=2, held=4)
    phone.go("perlu")
    expect(page.get_by_test_id("refused").get_by_test_id("reason")).to_have_text(["Tempat terlalu panjang"] * 2)
    expect(page.get_by_test_id("held-counts")).to_have_text("3 baris daftar hadir dan 1 usulan")
    phone.go(f"musyawarah/{taken}")
    expect(page.get_by_label("Tempat")).to_have_value(edit["tempat"])  # her refused edit, on screen again

    edit_tempat(phone, musy, f"Balai baru {tag}")
    edit_tempat(phone, taken, f"Balai lama {tag} (diperbaiki)")
    sync_now(phone)
    expect_status(page, all_sent="true", unsent=0, refused=0, held=0)
    rows = pulled(older_app, kader)
    assert rows["musyawarah"][musy]["tempat"] == f"Balai baru {tag}"
    assert rows["musyawarah"][taken]["tempat"] == f"Balai lama {tag} (diperbaiki)"
    assert sorted((r["nama"], r["jenis_kelamin"]) for r in rows["kehadiran"].values()
                  if r["musyawarah_id"] == musy) == sorted(lines.values())
    assert rows["usulan"][usulan]["musyawarah_id"] == musy
    assert sorted(a["status"] for a in answers(store, kader[0])) == ["applied"] * (1 + 6)  # the office's, hers
    assert phone.errors == []


# ---- a sync that takes more than a moment says how far it has come ----------------------------------

PROGRESS = """() => {
    window.__progress = [];
    document.addEventListener('DOMContentLoaded', () => {
        const bar = document.getElementById('status');
        new MutationObserver(() => {
            const line = bar.querySelector('[data-error]');
            const text = line && !line.hidden ? line.textContent : null;
            if (text && text !== window.__progress.at(-1)) window.__progress.push(text);
        }).observe(bar, { childList: true, subtree: true, characterData: true, attributes: true });
    });
}"""


def test_a_long_sync_says_how_far_it_has_come(phones, server: LiveServer, store: Store, kader,
                                              tmp_path: Path) -> None:
    # A desa of its own with 1,050 usulan: a new phone pulls them in three pages of 500.
    pejarakan = off_loop(store.user, "kader", DESA_PEJARAKAN)
    office = Device(server, server.login(*pejarakan, device="HP lain"))
    made = [{"op": "create", "mutation_id": str(uuid.uuid4()), "seq": n + 1, "table": "usulan",
             "record_id": str(uuid.uuid4()), "changes": {"kegiatan": f"Usulan lama {n}"}} for n in range(1050)]
    for start in range(0, len(made), 500):
        assert {r["status"] for r in office.push(*made[start:start + 500])} == {"applied"}
    phone = App(phones(), server)
    phone.context.add_init_script(script=f"({PROGRESS})()")
    phone.login(*pejarakan)
    seen = phone.page.evaluate("window.__progress")
    assert "Menerima halaman 2 dari sekitar 3…" in seen and "Menerima halaman 3 dari sekitar 3…" in seen, seen

    # Sending: the changes answered of those that can go, then each photo with its size.
    sender = App(phones(), server)
    sender.context.add_init_script(script=f"({PROGRESS})()")
    sender.login(*kader)
    # Online, so the page syncs by itself after each save (offline, the service worker could do it).
    new_musyawarah(sender.page, f"Balai Banjar {uuid.uuid4().hex[:6]}", photo=photo(tmp_path))
    attend(sender.page, [("Ni Wayan Sukerti", "P"), ("I Ketut Darma", "L")])
    sync_now(sender)
    sender.expect_unsent(0)
    seen = sender.page.evaluate("window.__progress")
    sending = [s for s in seen if re.fullmatch(r"Mengirim (\d+) dari (\d+) perubahan…", s)]
    assert "Mengirim 0 dari 1 perubahan…" in sending or "Mengirim 0 dari 3 perubahan…" in sending, seen
    assert [s for s in seen if re.fullmatch(r"Foto 1 dari 1 \(\d+ KB\)…", s)], seen
    assert phone.errors == [] and sender.errors == []
