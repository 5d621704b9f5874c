"""Safety nets for a phone that cannot sync for weeks or is being replaced: unsent data goes to a file
and back, log-out warns before it would discard anything, and the app speaks English on request."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.conftest import Store
from tests.pwa.conftest import off_loop
from tests.pwa.pages import new_pengkajian

URAIAN = "Jembatan bambu rusak, dibawa lewat berkas"


def test_unsent_data_travels_by_file_to_another_phone_and_arrives_once(
        phones, app_on, kader, store: Store, tmp_path: Path, shots) -> None:
    old = app_on(phones())
    old.login(*kader)
    old.context.set_offline(True)
    new_pengkajian(old.page, URAIAN)
    old.expect_unsent(1)

    old.go("pengaturan")
    shots(old.page, "11-pengaturan")
    with old.page.expect_download() as download:
        old.page.get_by_test_id("export").click()
    exported = tmp_path / "kader-belum-terkirim.json"
    download.value.save_as(exported)

    old.page.get_by_test_id("logout").click()
    dialog = old.page.locator("dialog.ask")
    expect(dialog).to_contain_text("1 perubahan dan 0 foto belum terkirim")
    dialog.get_by_role("button", name="Batal").click()
    old.expect_unsent(1)  # nothing was discarded

    new = app_on(phones())
    new.login(*kader)
    new.go("pengaturan")
    new.page.get_by_test_id("import-input").set_input_files(str(exported))
    expect(new.page.get_by_text("1 perubahan diimpor dan akan dikirim.")).to_be_visible()
    new.sync()
    new.expect_unsent(0)

    old.context.set_offline(False)  # the old phone sends the same mutation: answered, not applied again
    old.expect_unsent(0)
    assert off_loop(store.scalar, "SELECT count(*) FROM pengkajian WHERE uraian = :u", u=URAIAN) == 1
    assert off_loop(store.scalar, "SELECT count(*) FROM history h JOIN pengkajian p ON p.id = h.record_id "
                                  "WHERE p.uraian = :u", u=URAIAN) == 1


def test_the_app_speaks_english_when_asked(phones, app_on, kader) -> None:
    phone = app_on(phones())
    phone.login(*kader)
    phone.go("pengaturan")
    phone.page.get_by_test_id("language").select_option("en")
    expect(phone.page.get_by_role("heading", name="Settings")).to_be_visible()
    expect(phone.page.get_by_test_id("unsent")).to_have_text("0 unsent")
    expect(phone.page.locator("#tabs")).to_contain_text("Home")
