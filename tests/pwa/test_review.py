"""The kecamatan asks for a correction: after a sync the cadre sees the note, corrects the record and
it goes back to "diajukan"."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.conftest import GEROKGAK, LiveServer, Store
from tests.pwa.conftest import off_loop
from tests.pwa.pages import new_usulan, row_id, save


def test_perlu_perbaikan_reaches_the_phone_and_the_correction_resubmits(
        phones, app_on, kader, store: Store, server: LiveServer, shots) -> None:
    phone = app_on(phones())
    page = phone.page
    phone.login(*kader)
    new_usulan(page, "Sumur bor untuk Banjar Dinas Tegal")
    phone.sync()
    phone.expect_unsent(0)
    rid = row_id(page, "Sumur bor untuk Banjar Dinas Tegal")

    admin = server.login(*off_loop(store.user, "admin", GEROKGAK), device="kantor")
    with server.client(admin) as c:
        r = c.post("/api/review", json={"table": "usulan", "ids": [rid], "state": "perlu_perbaikan",
                                        "note": "Volume belum jelas: berapa meter kedalaman sumur?"})
    assert r.status_code == 200, r.text

    phone.sync()
    phone.go("")
    expect(page.get_by_test_id("attention-fix")).to_have_text(re.compile(r"^[1-9]\d* data perlu perbaikan$"))
    page.get_by_test_id("attention-fix").click()
    mine = page.get_by_test_id("list").locator("li", has_text="Sumur bor untuk Banjar Dinas Tegal")
    expect(mine).to_contain_text("perlu perbaikan")
    mine.locator("a").click()
    expect(page.get_by_test_id("review-note")).to_have_text(
        "Catatan admin: Volume belum jelas: berapa meter kedalaman sumur?")
    shots(page, "06-usulan-perlu-perbaikan")
    page.get_by_label("Volume").fill("60")
    page.get_by_label("Satuan").fill("m kedalaman")
    save(page)
    phone.sync()
    phone.expect_unsent(0)
    phone.go(f"usulan/{rid}")
    expect(page.get_by_test_id("review").locator(".badge")).to_have_text("diajukan")

    with server.client(admin) as c:
        history = c.get(f"/api/sync/records/usulan/{rid}/history").json()
    assert [h["op"] for h in history] == ["create", "review", "update"]
    db_id = rid if store.url.startswith("sqlite") else uuid.UUID(rid)
    state, volume = off_loop(store.rows, "SELECT review_state, volume FROM usulan WHERE id = :i", i=db_id)[0]
    assert (state, volume) == ("diajukan", 60)


def test_the_admins_note_shows_once_and_in_words(phones, app_on, kader, store: Store, server: LiveServer) -> None:
    phone = app_on(phones())
    page = phone.page
    phone.login(*kader)
    new_usulan(page, "Jembatan bambu ke sawah Banjar Dinas Celukan")
    phone.sync()
    rid = row_id(page, "Jembatan bambu ke sawah")
    admin = server.login(*off_loop(store.user, "admin", GEROKGAK), device="kantor")

    def review(state: str, note: str) -> None:
        with server.client(admin) as c:
            r = c.post("/api/review", json={"table": "usulan", "ids": [rid], "state": state, "note": note})
        assert r.status_code == 200, r.text
        phone.sync()
        phone.go("")
        phone.go(f"usulan/{rid}")

    review("perlu_perbaikan", "Lampirkan sketsa lokasi jembatan.")
    box = page.get_by_test_id("review")
    expect(page.get_by_test_id("review-note")).to_have_text("Catatan admin: Lampirkan sketsa lokasi jembatan.")
    assert box.inner_text().count("Lampirkan sketsa lokasi jembatan.") == 1
    expect(box.get_by_test_id("comment")).to_have_count(0)

    # A second review: its note in the box, the first one kept below it as history, in words.
    review("ditolak", "Sudah masuk RKPDes tahun lalu.")
    expect(page.get_by_test_id("review-note")).to_have_text("Catatan admin: Sudah masuk RKPDes tahun lalu.")
    expect(box.get_by_test_id("comment")).to_have_text(
        [re.compile(r"^\d{1,2} \w{3},? \d{2}\.\d{2} perlu perbaikan: Lampirkan sketsa lokasi jembatan\.$")])
    text = box.inner_text()
    assert text.count("Sudah masuk RKPDes tahun lalu.") == 1 and text.count("Lampirkan sketsa") == 1, text
    assert not re.search(r"\[|perlu_perbaikan|ditolak\]", text), text
