"""Tombstones are purged after the retention window; a cursor from before the purge must resync."""

from __future__ import annotations

import datetime as dt
import uuid

from sync.engine.retention import purge
from tests.conftest import LiveServer, Store
from tests.syncing import Device, mutation


def _id(store: Store, rid: uuid.UUID) -> object:
    return str(rid) if store.url.startswith("sqlite") else rid


def _age(store: Store, table: str, rid: uuid.UUID, days: int) -> None:
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days))
    value = str(past) if store.url.startswith("sqlite") else past
    store.scalar(f"UPDATE {table} SET deleted_at = :p WHERE id = :i RETURNING 1", p=value, i=_id(store, rid))


def test_an_old_cursor_after_a_purge_is_told_to_resync_and_a_fresh_pull_works(server: LiveServer, store: Store,
                                                                               desa: str) -> None:
    kader = Device(server, server.login(*store.user("kader", desa)))
    gone, referenced, kept = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    kader.push(mutation("create", "pengkajian", gone, {"jenis": "masalah", "uraian": "Lama"}),
               mutation("create", "musyawarah", referenced, {"jenis": "musyawarah_dusun", "tanggal": "2026-01-05"}),
               mutation("create", "kehadiran", kept, {"musyawarah_id": str(referenced), "nama": "Wayan",
                                                      "jenis_kelamin": "L"}))
    kader.pull_all()
    old_cursor = kader.cursor
    kader.push(mutation("delete", "pengkajian", gone, base_version=1),
               mutation("delete", "musyawarah", referenced, base_version=1))
    _age(store, "pengkajian", gone, 400)
    _age(store, "musyawarah", referenced, 400)

    counts = store.run(lambda s: purge(s, dt.timedelta(days=365)))

    assert counts["pengkajian"] >= 1
    assert store.scalar("SELECT count(*) FROM pengkajian WHERE id = :i", i=_id(store, gone)) == 0
    # Still pointed at by a live attendance line: the tombstone stays.
    assert store.scalar("SELECT count(*) FROM musyawarah WHERE id = :i", i=_id(store, referenced)) == 1
    with kader.http() as c:
        r = c.get("/api/sync/pull", params={"cursor": old_cursor})
        assert r.status_code == 410 and r.json()["code"] == "resync_required"
        fresh = c.get("/api/sync/pull", params={"limit": 1000})
    assert fresh.status_code == 200
    assert str(gone) not in {ch["record_id"] for ch in fresh.json()["changes"]}


def test_recent_tombstones_are_kept(server: LiveServer, store: Store, desa: str) -> None:
    kader = Device(server, server.login(*store.user("kader", desa)))
    rid = uuid.uuid4()
    kader.push(mutation("create", "pengkajian", rid, {"jenis": "potensi", "uraian": "Mata air"}))
    kader.push(mutation("delete", "pengkajian", rid, base_version=1))
    store.run(lambda s: purge(s, dt.timedelta(days=365)))
    assert store.scalar("SELECT count(*) FROM pengkajian WHERE id = :i", i=_id(store, rid)) == 1


def test_a_pull_begun_after_a_purge_pages_through_without_resync(server: LiveServer, store: Store,
                                                                desa: str) -> None:
    """Its cursors are below the purge mark while it pages, but it never held what was purged: only a
    purge made after a cursor sends that cursor back to the start."""
    kader = Device(server, server.login(*store.user("kader", desa)))
    for n in range(6):
        kader.push(mutation("create", "pengkajian", uuid.uuid4(), {"jenis": "potensi", "uraian": f"Sesudah {n}"}))
    rid = uuid.uuid4()  # its tombstone is the newest change: the purge mark lies above every other
    kader.push(mutation("create", "pengkajian", rid, {"jenis": "masalah", "uraian": "Dihapus lalu dibersihkan"}))
    kader.push(mutation("delete", "pengkajian", rid, base_version=1))
    _age(store, "pengkajian", rid, 400)
    store.run(lambda s: purge(s, dt.timedelta(days=365)))

    fresh = Device(server, server.login(*store.user("kader", desa)))
    changes = fresh.pull_all(limit=2)  # many pages, each cursor below the purge mark
    assert str(rid) not in {c["record_id"] for c in changes}
    assert {f"Sesudah {n}" for n in range(6)} <= {c["row"].get("uraian") for c in changes if c["row"]}

    # A later purge is one this cursor has not seen: back to the start.
    again = uuid.uuid4()
    kader.push(mutation("create", "pengkajian", again, {"jenis": "masalah", "uraian": "Juga dibersihkan"}))
    kader.push(mutation("delete", "pengkajian", again, base_version=1))
    _age(store, "pengkajian", again, 400)
    store.run(lambda s: purge(s, dt.timedelta(days=365)))
    with fresh.http() as c:
        r = c.get("/api/sync/pull", params={"cursor": fresh.cursor})
    assert r.status_code == 410 and r.json()["code"] == "resync_required"
