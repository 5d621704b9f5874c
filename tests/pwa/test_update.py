"""A new version of the app never strands unsent data: it is offered, not forced; with unsent data
the cadre is asked first; and a version that cannot read the old outbox never takes over."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import LiveServer, Store, start_server, stop_server
from tests.pwa.conftest import App, off_loop
from tests.pwa.pages import new_pengkajian
from tests.support.app_versions import REPO_PWA, served_version, ship


@pytest.fixture
def shipped(db_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, Path]]:
    """A server of its own, serving a copy of pwa/ that the test can change to ship a new version."""
    copy = tmp_path / "pwa"
    shutil.copytree(REPO_PWA, copy)
    (tmp_path / "data").mkdir()
    live = off_loop(start_server, db_url, tmp_path / "data", {"KADER_PWA_DIR": str(copy)})
    yield live, copy
    stop_server(live)


def check_for_update(phone: App) -> str | None:
    """What the settings button (and the periodic check) does: ask the browser to fetch sw.js again,
    and wait until the new worker has installed or failed to. Returns the browser's error, if any
    (a worker whose install is refused makes the update itself fail). Under Playwright's service-worker
    instrumentation the start of a new worker fails now and then, up to four times in a row, with
    "ServiceWorker cannot be started"; the browser's own next check would try again, so this does too."""
    return phone.page.evaluate("""async () => {
        const reg = await navigator.serviceWorker.getRegistration();
        for (let i = 0; ; i++) {
            try { await reg.update(); break; } catch (e) {
                if (i === 14) return String(e);
                console.log(`update attempt ${i} failed: ${e}`);
                await new Promise((r) => setTimeout(r, 1000));
            }
        }
        const worker = reg.installing;
        if (worker) await new Promise((done) => {
            const check = () => (['installed', 'redundant'].includes(worker.state) ? done() : null);
            worker.addEventListener('statechange', check);
            check();
        });
        return null;
    }""")


def test_an_update_with_unsent_data_asks_first_and_loses_nothing(phones, kader, store: Store, shipped,
                                                                 shots) -> None:
    server, copy = shipped
    phone = App(phones(), server)
    page = phone.page
    phone.login(*kader)
    phone.page.route("**/api/sync/**", lambda route: route.abort("internetdisconnected"))  # no signal
    new_pengkajian(page, "Data yang belum terkirim saat pembaruan")
    phone.expect_unsent(1)
    phone.go("pengaturan")
    current = served_version(server.url)
    expect(page.get_by_test_id("version")).to_have_text(f"Versi {current}")

    ship(copy, "versi baru: app.js berubah")  # no version bumped by hand: the server sees the change
    shipped = served_version(server.url)
    assert shipped != current
    assert check_for_update(phone) is None
    expect(page.get_by_text("Versi baru tersedia.")).to_be_visible()
    page.get_by_test_id("update-button").click()
    dialog = page.locator("dialog.ask")
    expect(dialog).to_contain_text("Ada 1 perubahan yang belum terkirim.")
    shots(page, "10-pengaturan-versi-baru")
    dialog.get_by_role("button", name="Nanti saja").click()
    expect(page.get_by_test_id("version")).to_have_text(f"Versi {current}")  # nothing forced

    page.get_by_test_id("update-button").click()
    with page.expect_navigation():
        dialog.get_by_role("button", name="Perbarui sekarang").click()
    expect(page.get_by_test_id("version")).to_have_text(f"Versi {shipped}")
    phone.expect_unsent(1)
    phone.go("pengkajian")
    expect(page.get_by_test_id("list")).to_contain_text("Data yang belum terkirim saat pembaruan")

    # A version that cannot read this outbox fails to install: the running one stays in charge.
    ship(copy, "versi yang tidak bisa membaca outbox ini", reads="[2]")
    check_for_update(phone)
    assert page.evaluate("navigator.serviceWorker.getRegistration().then((r) => !r.waiting && !r.installing)")
    expect(page.get_by_text("Versi baru tersedia.")).to_be_hidden()
    phone.go("pengaturan")
    expect(page.get_by_test_id("version")).to_have_text(f"Versi {shipped}")

    phone.page.unroute("**/api/sync/**")
    phone.sync()
    phone.expect_unsent(0)
    assert off_loop(store.scalar, "SELECT count(*) FROM pengkajian WHERE uraian = :u",
                    u="Data yang belum terkirim saat pembaruan") == 1
