"""A phone against a server restored from a backup: everything it had acknowledged after the backup is
on the server again, exactly once, and while that is being sent the unsent counter shows it.

The test runs its own server on its own database (a restore replaces all of it), restarted on the same
port so that the phone keeps its origin, and so its IndexedDB.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.sync_api import expect

from server.db.migrate import upgrade
from server.wilayah.loader import load_wilayah
from tests.conftest import (
    DESA_GEROKGAK,
    GEROKGAK,
    KADER,
    LiveServer,
    Store,
    postgres_database,
    start_server,
    stop_server,
)
from tests.pwa.conftest import App, off_loop
from tests.pwa.pages import new_pengkajian, row_id, save
from tests.syncing import Device, mutation

BEFORE = "Talud sungai jebol, dicatat sebelum cadangan"
AFTER = ["Lampu jalan padam, setelah cadangan", "Posyandu butuh timbangan, setelah cadangan"]
EDITED = "Talud sungai jebol sepanjang 20 m, diubah setelah cadangan"


class Installation:
    """A database, a data directory and a server that can be stopped, restored and started again."""

    def __init__(self, url: str, data_dir: Path) -> None:
        self.url, self.data_dir = url, data_dir
        self.store = Store(url)
        self.port: int | None = None
        self.server: LiveServer | None = None

    def start(self, **env: str) -> LiveServer:
        # Again on the port it had: the same origin as before, so the phone keeps its data.
        self.server = start_server(self.url, self.data_dir, env, port=self.port)
        self.port = int(self.server.url.rsplit(":", 1)[1])
        return self.server

    def stop(self) -> None:
        if self.server:
            stop_server(self.server)
            self.server = None

    def kader(self, *args: str) -> str:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("KADER_")},
               "KADER_DATABASE_URL": self.url, "KADER_DATA_DIR": str(self.data_dir), "KADER_SECRET_KEY": "test-secret"}
        done = subprocess.run([*KADER, *args], env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout


def _prepare(url: str) -> None:
    upgrade(url)
    Store(url).run(lambda s: load_wilayah(s, GEROKGAK))


@pytest.fixture
def installation(db_url: str, tmp_path: Path) -> Iterator[Installation]:
    with ExitStack() as stack:
        url = f"sqlite+aiosqlite:///{tmp_path / 'kader.sqlite3'}" if db_url.startswith("sqlite") else _pg(stack)
        off_loop(_prepare, url)
        site = Installation(url, tmp_path)
        site.start()
        try:
            yield site
        finally:
            site.stop()


def _pg(stack: ExitStack) -> str:
    """A fresh PostgreSQL database; made and dropped away from Playwright's event loop."""
    manager = postgres_database("kader_pwa_restore")
    url = off_loop(manager.__enter__)
    stack.callback(lambda: off_loop(manager.__exit__, None, None, None))
    return url


def count(store: Store, uraian: str) -> int:
    return off_loop(store.scalar, "SELECT count(*) FROM pengkajian WHERE uraian = :u", u=uraian)


def test_a_phone_sends_again_what_a_restored_server_lost_and_nothing_twice(phones, installation: Installation,
                                                                         shots) -> None:
    site = installation
    assert site.server is not None
    admin = Device(site.server, site.server.login(*off_loop(site.store.user, "admin", GEROKGAK)))
    dusun = {"desa_code": DESA_GEROKGAK, "nama": "Banjar Dinas Celukan", "sebutan": "Banjar Dinas"}
    [r] = admin.push(mutation("create", "dusun", uuid.uuid4(), dusun))
    assert r["status"] == "applied"
    username, password = off_loop(site.store.user, "kader", DESA_GEROKGAK)

    phone = App(phones(), site.server)
    phone.login(username, password)
    new_pengkajian(phone.page, BEFORE)
    phone.sync()
    phone.expect_unsent(0)
    backup = site.data_dir / "kader.backup"
    site.kader("backup", str(backup))  # the server keeps running

    # After the backup: two new records and an edit, all acknowledged by the server.
    for uraian in AFTER:
        new_pengkajian(phone.page, uraian)
    rid = row_id(phone.page, BEFORE)
    phone.page.evaluate("r => { location.hash = '#/pengkajian/' + r; }", rid)
    phone.page.get_by_label("Uraian").fill(EDITED)
    save(phone.page)
    phone.sync()
    phone.expect_unsent(0)
    assert [count(site.store, u) for u in AFTER] == [1, 1]

    # The server is restored from the backup: the two records and the edit are gone from it. It comes
    # back first with a body limit that lets the phone learn the new identity but refuses its replays
    # (the app halves a batch refused as too large, down to one mutation: even one must not fit).
    site.stop()
    site.kader("restore", str(backup))
    assert [count(site.store, u) for u in AFTER] == [0, 0] and count(site.store, BEFORE) == 1
    site.start(KADER_MAX_BODY_BYTES="250")  # an empty push fits, no single mutation does
    phone.page.get_by_test_id("sync-button").click()
    expect(phone.page.get_by_test_id("sync-error")).to_be_visible(timeout=20_000)
    phone.expect_unsent(4)  # the replays wait in the outbox, counted as unsent: 3 creates and the edit
    shots(phone.page, "12-replay-after-restore")

    site.stop()
    site.start()
    phone.sync()
    phone.expect_unsent(0)
    for uraian in AFTER:
        assert count(site.store, uraian) == 1
    assert count(site.store, EDITED) == 1 and count(site.store, BEFORE) == 0
    # Exactly once: one create in the history of each record, one stored answer per mutation she made.
    creates = off_loop(site.store.scalar, "SELECT count(*) FROM history h JOIN pengkajian p ON p.id = h.record_id "
                                          "WHERE h.op = 'create' AND p.desa_code = :d", d=DESA_GEROKGAK)
    assert creates == 3
    assert off_loop(site.store.scalar, "SELECT count(*) FROM processed_mutations pm JOIN sync_clients c "
                                       "ON c.id = pm.client_id JOIN users u ON u.id = c.user_id "
                                       "WHERE u.username = :u", u=username) == 4
    # The phone pulled again from the start and shows all three, the edit included.
    phone.go("pengkajian")
    for uraian in [EDITED, *AFTER]:
        expect(phone.page.get_by_test_id("list")).to_contain_text(uraian)
    expect(phone.page.get_by_test_id("list").locator("li", has_text=re.compile("Talud"))).to_have_count(1)
    cursor = phone.page.evaluate("""() => new Promise((ok) => { const r = indexedDB.open('kader');
        r.onsuccess = () => { const g = r.result.transaction('meta').objectStore('meta').get('cursor');
        g.onsuccess = () => ok(g.result); }; })""")
    new_id = off_loop(site.store.scalar, "SELECT value FROM sync_meta WHERE key = 'database_id'")
    assert cursor.split("@")[2] == new_id  # <seq>@<scope>@<database id>@<purge mark>
    assert phone.errors == []
