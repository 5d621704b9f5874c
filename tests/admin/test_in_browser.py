"""The admin in real Chromium under the server's Content-Security-Policy (server/headers.py): piccolo-admin's
screens, the office pages and the dashboard work, and the browser reports no policy violation."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.conftest import GEROKGAK, LiveServer, Store
from tests.support.missing import missing

CHROMIUM = os.environ.get("KADER_TEST_CHROMIUM", "/usr/bin/chromium")


def test_admin_screens_run_under_the_content_security_policy(server: LiveServer, store: Store) -> None:
    if not Path(CHROMIUM).exists():
        missing("chromium", f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    username, password = store.user("admin", GEROKGAK)  # before Playwright holds the event loop
    violations: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(f"{server.url}/admin/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", password)
            page.keyboard.press("Enter")
            page.get_by_text("Pengkajian").first.wait_for(timeout=30_000)
            page.goto(f"{server.url}/admin/#/pengkajian")
            page.get_by_text("Pengkajian").first.wait_for(timeout=30_000)
            page.goto(f"{server.url}/admin/kantor/tinjauan/")
            assert page.locator("form, table, h1").count() > 0
            page.goto(f"{server.url}/dasbor/")
            assert page.locator("h1").count() > 0
        finally:
            browser.close()
    assert violations == []
