"""A photo taken on another phone of the desa is downloaded when her musyawarah screen shows it,
checked against its name, and kept: it shows again with no signal."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.conftest import DESA_GEROKGAK, LiveServer, Store
from tests.pwa.conftest import off_loop
from tests.pwa.pages import big_photo, new_musyawarah
from tests.syncing import Device


def test_a_photo_from_another_phone_is_downloaded_when_shown_and_kept_for_offline(
        phones, app_on, kader, store: Store, server: LiveServer, tmp_path: Path) -> None:
    taker = app_on(phones())
    taker.login(*kader)
    musy = new_musyawarah(taker.page, "Balai Banjar Tegal (foto dari HP lain)", photo=big_photo(tmp_path / "hadir.png"))
    taker.sync()
    taker.expect_unsent(0)
    expect(taker.page.get_by_test_id("unsent")).not_to_contain_text("foto")
    sha = taker.page.get_by_test_id("photos").locator("img").get_attribute("data-sha")

    other = app_on(phones())
    other.login(*off_loop(store.user, "kader", DESA_GEROKGAK))
    other.go(f"musyawarah/{musy}")
    photo = other.page.get_by_test_id("photos").locator(f"img[data-sha='{sha}']")
    expect(photo).to_be_visible()
    assert other.page.evaluate("(img) => img.complete && img.naturalWidth > 0", photo.element_handle())
    stored = other.page.evaluate("""async (sha) => { const a = await (await import('/js/db.js')).getAttachment(sha);
        const bytes = new Uint8Array(await a.blob.arrayBuffer());
        return { uploaded: a.uploaded, size: bytes.length,
                 hex: [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))]
                   .map((b) => b.toString(16).padStart(2, '0')).join('') }; }""", sha)
    assert stored["hex"] == sha and stored["uploaded"] == 1  # kept, and never uploaded again
    with server.client(server.login(*kader, device="pemeriksa")) as c:
        assert hashlib.sha256(c.get(f"/api/attachments/{sha}").content).hexdigest() == sha
    expect(other.page.get_by_test_id("unsent")).not_to_contain_text("foto")

    other.context.set_offline(True)
    other.page.reload()
    expect(other.page.get_by_test_id("photos").locator(f"img[data-sha='{sha}']")).to_be_visible()
    assert other.errors == [] and taker.errors == []


def test_a_photo_taken_on_a_saved_musyawarah_is_kept_at_once(
        phones, app_on, kader, store: Store, server: LiveServer, tmp_path: Path) -> None:
    phone = app_on(phones())
    page = phone.page
    phone.login(*kader)
    phone.context.set_offline(True)
    musy = new_musyawarah(page, "Balai Banjar Celukan (foto langsung)")
    expect(page.get_by_test_id("photo-hint")).to_have_text(re.compile("^Foto langsung tersimpan di HP ini"))
    before = phone.unsent()
    page.get_by_test_id("photo-input").set_input_files(str(big_photo(tmp_path / "berita-acara.png")))
    expect(page.get_by_text("Foto tersimpan di HP ini.")).to_be_visible(timeout=20_000)
    phone.expect_unsent(before + 1)
    sha = page.get_by_test_id("photos").locator("img").get_attribute("data-sha")
    phone.go("musyawarah")  # no Simpan, and nothing to lose: no "Isian belum disimpan"
    expect(page.locator("dialog")).to_have_count(0)

    phone.context.set_offline(False)
    phone.expect_unsent(0)
    expect(page.get_by_test_id("unsent")).not_to_contain_text("foto", timeout=20_000)
    reader = Device(server, server.login(*kader, device="pemeriksa"))
    [row] = [c["row"] for c in reader.pull_all() if c["table"] == "musyawarah" and c["record_id"] == musy]
    assert row["foto"] == [sha], row
    with reader.http() as c:
        assert hashlib.sha256(c.get(f"/api/attachments/{sha}").content).hexdigest() == sha
    assert phone.errors == []
