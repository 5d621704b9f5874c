"""Text typed as markup — `<script>`, `<img onerror>` — shows as text everywhere and never runs, on the
phone that typed it and on the phone that pulled it."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import DESA_GEROKGAK, GEROKGAK, LiveServer, Store
from tests.pwa.conftest import off_loop
from tests.pwa.pages import attend, new_musyawarah, new_pengkajian, row_id, save

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=2</script>"
NOTE = '<b onmouseover="window.__xss=4">tebal</b><script>window.__xss=5</script>'


def test_markup_typed_into_fields_stays_inert_text(phones, app_on, kader, store: Store, server: LiveServer,
                                                   shots) -> None:
    phone = app_on(phones())
    page = phone.page
    phone.login(*kader)
    new_pengkajian(page, IMG)
    rid = row_id(page, IMG)
    phone.go(f"pengkajian/{rid}")
    page.get_by_label("Penyebab").fill(SCRIPT)
    save(page)
    new_musyawarah(page, SCRIPT)
    attend(page, [(IMG, "P")])
    phone.sync()
    admin = server.login(*off_loop(store.user, "admin", GEROKGAK), device="kantor")
    with server.client(admin) as c:
        assert c.post("/api/review", json={"table": "pengkajian", "ids": [rid], "state": "perlu_perbaikan",
                                           "note": NOTE}).status_code == 200

    other = app_on(phones())
    other.login(*off_loop(store.user, "kader", DESA_GEROKGAK))
    phone.sync()
    for p in (phone, other):
        p.go("pengkajian")
        expect(p.page.get_by_test_id("list").locator(".title", has_text="onerror")).to_have_text(IMG)
        p.go(f"pengkajian/{rid}")
        expect(p.page.get_by_label("Uraian")).to_have_value(IMG)
        expect(p.page.get_by_label("Penyebab")).to_have_value(SCRIPT)
        expect(p.page.get_by_test_id("review-note")).to_have_text(f"Catatan admin: {NOTE}")
        p.page.get_by_test_id("review-note").hover()
        p.go("cari")
        p.page.get_by_test_id("search-text").fill("__xss=2")
        expect(p.page.get_by_test_id("list").locator("li")).to_have_count(2)  # its penyebab, the tempat
        expect(p.page.get_by_test_id("list")).to_contain_text(IMG)
        if p is other:
            shots(p.page, "08-cari")
        p.go("musyawarah")
        p.page.get_by_test_id("list").locator("li", has_text=SCRIPT).locator("a").click()
        expect(p.page.get_by_test_id("attendance").locator(".name")).to_have_text(IMG)
        assert p.page.evaluate("window.__xss") is None
        assert p.page.locator("main img:not([src^='blob:'])").count() == 0
        assert p.page.locator("main script, main b").count() == 0
    shots(other.page, "07-teks-berbahaya-tetap-teks")
    assert phone.errors == [] and other.errors == []
