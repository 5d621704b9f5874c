"""410 resync: the office purges old tombstones (`kader sync purge`), so a phone whose cursor is older
can no longer learn of those deletions. The pull says so; the app drops its synced copy, keeps what
she has not sent, pulls from the start, and ends with exactly the server's records."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from server.models import Pengkajian, SyncMeta
from tests.conftest import DESA_GEROKGAK, GEROKGAK, LiveServer, Store
from tests.pwa.conftest import App, off_loop
from tests.pwa.pages import new_pengkajian, row_id, save
from tests.syncing import Device, mutation

GONE = "Kajian yang dihapus kantor lalu dibersihkan"
KEPT = "Kajian yang diubah tanpa sinyal sebelum sinkron ulang"
NEW = "Kajian baru tanpa sinyal sebelum sinkron ulang"


@pytest.fixture
def purge_restored(store: Store) -> Iterator[None]:
    """The purge mark is server-wide: put it back afterwards, so that devices of later tests whose desa
    has not changed since are not told to resync."""
    before = off_loop(store.scalar, "SELECT value FROM sync_meta WHERE key = 'purged_through'")
    yield

    async def put_back(s) -> None:
        if before is None:
            await s.execute(SyncMeta.__table__.delete().where(SyncMeta.key == "purged_through"))
        else:
            await s.execute(update(SyncMeta).where(SyncMeta.key == "purged_through").values(value=before))

    off_loop(store.run, put_back)


def kader_sync_purge(db_url: str, data_dir: Path) -> str:
    """The office's command, as run on the server."""
    kader = Path(sys.executable).with_name("kader")
    done = subprocess.run([str(kader), "sync", "purge", "--days", "1"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KADER_DATABASE_URL": db_url, "KADER_DATA_DIR": str(data_dir)})
    assert done.returncode == 0, done.stderr
    return done.stdout


def local_ids(phone: App, table: str) -> set[str]:
    return set(phone.page.evaluate(
        "async (t) => (await (await import('/js/db.js')).listRecords(t)).map((r) => r.id)", table))


def local_uraian(phone: App) -> set[str]:
    """What the phone holds (the list on screen shows one page of a desa's records, ranked)."""
    return set(phone.page.evaluate(
        "async () => (await (await import('/js/db.js')).listRecords('pengkajian')).map((r) => r.row.uraian)"))


def server_ids(store: Store, desa: str) -> set[str]:
    async def work(s) -> list[uuid.UUID]:
        return list(await s.scalars(select(Pengkajian.id).where(Pengkajian.desa_code == desa,
                                                                Pengkajian.deleted_at.is_(None))))
    return {str(i) for i in off_loop(store.run, work)}


def test_a_purge_past_her_cursor_makes_the_phone_start_over_keeping_her_unsent_work(
        phones, kader, store: Store, server: LiveServer, db_url: str, tmp_path: Path, purge_restored) -> None:
    office = Device(server, server.login(*off_loop(store.user, "admin", GEROKGAK)))
    gone = uuid.uuid4()
    [r] = office.push(mutation("create", "pengkajian", gone, {"desa_code": DESA_GEROKGAK, "jenis": "masalah",
                                                               "uraian": GONE}))
    assert r["status"] == "applied", r

    phone = App(phones(), server)
    page = phone.page
    phone.login(*kader)
    new_pengkajian(page, KEPT)
    phone.sync()
    kept = row_id(page, KEPT)
    assert GONE in local_uraian(phone)
    cursor = page.evaluate("async () => (await import('/js/db.js')).getMeta('cursor')")

    # Unsent work made with no signal: an edit of a synced record and a new record.
    phone.context.set_offline(True)
    page.evaluate("r => { location.hash = '#/pengkajian/' + r; }", kept)
    page.get_by_label("Penyebab").fill("Diubah tanpa sinyal")
    save(page)
    new_pengkajian(page, NEW)
    phone.expect_unsent(2)

    # Meanwhile the office deletes a record, and a year later (here: two days and --days 1) purges it.
    [r] = office.push(mutation("delete", "pengkajian", gone, base_version=1))
    assert r["status"] == "applied", r

    async def backdate(s) -> None:
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
        await s.execute(update(Pengkajian).where(Pengkajian.id == gone).values(deleted_at=old))

    off_loop(store.run, backdate)
    assert "pengkajian 1" in kader_sync_purge(db_url, tmp_path)
    with server.client(server.login(*kader, device="pemeriksa")) as c:  # her cursor cannot go on
        refused = c.get("/api/sync/pull", params={"cursor": cursor, "limit": 10})
    assert refused.status_code == 410 and refused.json()["code"] == "resync_required"

    phone.context.set_offline(False)  # the `online` event syncs: push, then a pull that starts over
    phone.expect_unsent(0)
    phone.wait_idle()
    expect(page.get_by_test_id("sync-error")).to_be_hidden()
    held = local_uraian(phone)
    assert NEW in held and KEPT in held
    assert GONE not in held  # only starting over could tell: its tombstone is gone
    assert local_ids(phone, "pengkajian") == server_ids(store, DESA_GEROKGAK)

    assert off_loop(store.scalar, "SELECT count(*) FROM pengkajian WHERE uraian = :u", u=NEW) == 1
    assert off_loop(store.scalar, "SELECT penyebab FROM pengkajian WHERE uraian = :u", u=KEPT) == "Diubah tanpa sinyal"
    phone.sync()  # and the new cursor goes on
    assert local_ids(phone, "pengkajian") == server_ids(store, DESA_GEROKGAK)
    assert phone.errors == []
