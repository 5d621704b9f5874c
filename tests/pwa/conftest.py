"""Real Chromium (Debian's package) driving the cadres' PWA against the live ``server`` fixture.

One browser per session; every test gets fresh contexts (a context is a phone: its own IndexedDB,
service worker and cache). The viewport is a 360 px wide Android phone. Database checks go through
``store`` on a worker thread, because Playwright's sync API keeps an event loop on the test thread.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.conftest import DESA_GEROKGAK, GEROKGAK, LiveServer, Store, start_server, stop_server
from tests.support.missing import missing
from tests.syncing import Device, mutation

CHROMIUM = os.environ.get("KADER_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "id-ID", "timezone_id": "Asia/Makassar", "service_workers": "allow"}
T = TypeVar("T")

_pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)


def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn`` (which may call ``asyncio.run``) away from Playwright's event loop."""
    return _pool.submit(fn, *args, **kwargs).result()


# Package scope, tied to the database: while Playwright's sync API lives it marks the test thread's
# event loop as running, which would break every asyncio test (and ``asyncio.run``) outside this
# package, and the set-up of the next database. So one browser serves all of tests/pwa per database.
@pytest.fixture(scope="package")
def playwright(db_url: str) -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        missing("chromium", f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--no-first-run", "--disable-dev-shm-usage"],
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def dusun(server: LiveServer, store: Store) -> dict[str, str]:
    """Two dusun of Desa Gerokgak, made by the kecamatan admin (cadres only read them)."""
    admin = Device(server, server.login(*off_loop(store.user, "admin", GEROKGAK)))
    made = {}
    for nama in ("Banjar Dinas Celukan", "Banjar Dinas Tegal"):
        rid = uuid.uuid4()
        [r] = admin.push(mutation("create", "dusun", rid, {"desa_code": DESA_GEROKGAK, "nama": nama,
                                                          "sebutan": "Banjar Dinas"}))
        assert r["status"] == "applied", r
        made[nama] = str(rid)
    return made


@pytest.fixture
def own_server(db_url: str, tmp_path: Path) -> Iterator[list[LiveServer]]:
    """A server of its own that the test may stop and start again on the same port (``restart``);
    every one started is stopped at the end."""
    (tmp_path / "data").mkdir()
    started = [off_loop(start_server, db_url, tmp_path / "data")]
    yield started
    for live in started:
        stop_server(live)


def restart(started: list[LiveServer], db_url: str, data_dir: Path) -> LiveServer:
    """Starts the stopped server again on its port, so phones find it where it was."""
    live = off_loop(start_server, db_url, data_dir, port=int(started[-1].url.rsplit(":", 1)[1]))
    started.append(live)
    return live


@pytest.fixture
def kader(store: Store, dusun: dict[str, str]) -> tuple[str, str]:
    """A fresh cadre account of Desa Gerokgak: (username, password)."""
    return off_loop(store.user, "kader", DESA_GEROKGAK)


@pytest.fixture
def phones(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    """Makes phones (browser contexts); all are closed after the test."""
    made: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(**PHONE)
        context.set_default_timeout(15_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest, db_url: str) -> Callable[[Page, str], Path]:
    """Saves a screenshot as a test artefact under tests/pwa/artifacts/<database>/."""
    folder = ARTIFACTS / ("postgresql" if db_url.startswith("postgresql") else "sqlite")
    folder.mkdir(parents=True, exist_ok=True)

    def shot(page: Page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shot


class App:
    """The PWA on one phone, driven the way a cadre drives it."""

    def __init__(self, context: BrowserContext, server: LiveServer) -> None:
        self.context = context
        self.server = server
        self.page = context.pages[0] if context.pages else context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, route: str = "") -> None:
        self.page.goto(f"{self.server.url}/#/{route}")

    def login(self, username: str, password: str) -> None:
        self.open()
        self.page.get_by_label("Nama pengguna").fill(username)
        self.page.get_by_label("Kata sandi").fill(password)
        self.page.get_by_role("button", name="Masuk").click()
        expect(self.page.get_by_role("heading", name=re.compile("^Desa "))).to_be_visible()
        self.wait_idle()
        self.wait_for_service_worker()

    def wait_for_service_worker(self) -> None:
        """The shell is cached and the page controlled: from here on it opens offline."""
        self.page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)

    def go(self, route: str) -> None:
        self.page.evaluate("r => { location.hash = '#/' + r; }", route)
        self.page.wait_for_function("r => document.getElementById('main').dataset.route === '#/' + r", arg=route)

    def unsent(self) -> int:
        return int(self.page.get_by_test_id("unsent").get_attribute("data-count") or "-1")

    def expect_unsent(self, n: int) -> None:
        expect(self.page.get_by_test_id("unsent")).to_have_attribute("data-count", str(n), timeout=20_000)

    def wait_idle(self) -> None:
        expect(self.page.get_by_test_id("sync-button")).to_be_enabled(timeout=20_000)

    def sync(self) -> None:
        """Press the sync button and wait for that sync to finish without an error."""
        self.wait_idle()
        before = int(self.page.locator("#status").get_attribute("data-syncs") or "0")
        self.page.get_by_test_id("sync-button").click()
        self.page.wait_for_function("n => Number(document.getElementById('status').dataset.syncs) > n", arg=before)
        self.wait_idle()
        expect(self.page.get_by_test_id("sync-error")).to_be_hidden()

    def saved_toast(self) -> None:
        expect(self.page.get_by_text("Tersimpan di HP ini.").last).to_be_visible()


@pytest.fixture
def app_on(server: LiveServer) -> Callable[[BrowserContext], App]:
    return lambda context: App(context, server)


def http(server: LiveServer, token: str | None = None) -> httpx.Client:
    return server.client(token)
