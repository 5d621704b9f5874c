"""Persistent storage: the app asks the browser to keep its data and says plainly whether it may.
Headless Chromium answers "not granted"; the granted case is the browser's own answer after the
permission is given through the DevTools protocol (Playwright has no name for it)."""

from __future__ import annotations

from playwright.sync_api import Browser, BrowserContext, expect

from tests.pwa.conftest import App

GRANTED = "Penyimpanan permanen: diizinkan (data tidak dihapus browser)."
NOT_GRANTED = "Penyimpanan permanen: belum diizinkan. Sinkronkan sesering mungkin."


def grant_durable_storage(browser: Browser, context: BrowserContext, origin: str) -> None:
    page = context.pages[0] if context.pages else context.new_page()
    target = context.new_cdp_session(page).send("Target.getTargetInfo")["targetInfo"]
    browser.new_browser_cdp_session().send("Browser.grantPermissions", {
        "origin": origin, "permissions": ["durableStorage"], "browserContextId": target["browserContextId"]})


def test_storage_not_granted_is_said_and_asking_again_after_a_grant_makes_it_granted(
        browser: Browser, phones, app_on, kader) -> None:
    phone: App = app_on(phones())
    page = phone.page
    phone.login(*kader)  # logging in asks for persistent storage: headless Chromium says no
    expect(page.get_by_test_id("storage")).to_have_text(NOT_GRANTED)
    assert page.evaluate("navigator.storage.persisted()") is False

    phone.go("pengaturan")
    expect(page.get_by_test_id("storage")).to_have_text(NOT_GRANTED)
    ask = page.get_by_role("button", name="Minta penyimpanan permanen")
    ask.click()
    refused = "Browser belum mengizinkan. Pasang aplikasi ke layar utama lalu coba lagi."
    expect(page.get_by_text(refused)).to_be_visible()
    expect(page.get_by_test_id("storage")).to_have_text(NOT_GRANTED)

    grant_durable_storage(browser, phone.context, phone.server.url)  # as an installed app would be
    ask.click()
    expect(page.get_by_test_id("storage")).to_have_text(GRANTED)
    expect(ask).to_be_hidden()
    phone.go("")
    expect(page.get_by_test_id("storage")).to_have_text(GRANTED)


def test_storage_granted_before_log_in_is_kept_from_the_first_screen(browser: Browser, phones, app_on,
                                                                      kader) -> None:
    phone: App = app_on(phones())
    grant_durable_storage(browser, phone.context, phone.server.url)
    phone.login(*kader)
    expect(phone.page.get_by_test_id("storage")).to_have_text(GRANTED)
    assert phone.page.evaluate("navigator.storage.persisted()") is True
    phone.go("pengaturan")
    expect(phone.page.get_by_test_id("storage")).to_have_text(GRANTED)
    expect(phone.page.get_by_role("button", name="Minta penyimpanan permanen")).to_have_count(0)
