"""Backups and restores: ``kader backup`` while the server writes, ``kader restore`` into the configured
database, and what phones that synced after the backup do against the restored server (identity, 410
``database_replaced``, replayed mutations answered as stored, applied, or turned into conflicts).

Each test gets its own database (a SQLite file, or a fresh PostgreSQL database) and its own server,
because a restore replaces everything in it.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from server.db.migrate import upgrade
from server.wilayah.loader import load_wilayah
from tests.conftest import (
    DESA_GEROKGAK,
    GEROKGAK,
    KADER,
    LiveServer,
    Store,
    _pg_admin,
    postgres_database,
    start_server,
    stop_server,
)
from tests.syncing import Device, mutation

MASALAH = {"jenis": "masalah", "uraian": "Jalan dusun tergenang", "bidang_code": "2"}


@dataclass
class Site:
    """One installation: its database, data directory and (while running) its server."""

    url: str
    data_dir: Path
    server: LiveServer | None = None
    stack: ExitStack = field(default_factory=ExitStack)

    @property
    def store(self) -> Store:
        return Store(self.url)

    def start(self) -> LiveServer:
        self.server = start_server(self.url, self.data_dir)
        return self.server

    def stop(self) -> None:
        if self.server:
            stop_server(self.server)
            self.server = None

    def kader(self, *args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KADER_")}
        env.update(KADER_DATABASE_URL=url or self.url, KADER_DATA_DIR=str(self.data_dir),
                   KADER_SECRET_KEY="test-secret")
        return subprocess.run([*KADER, *args], env=env, capture_output=True, text=True, timeout=120, check=False)

    def ok(self, *args: str, url: str | None = None) -> str:
        done = self.kader(*args, url=url)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def fresh_database(self, name: str) -> str:
        """Another empty database of the same engine (the target of a restore elsewhere)."""
        if self.url.startswith("sqlite"):
            return f"sqlite+aiosqlite:///{self.data_dir / name}.sqlite3"
        return self.stack.enter_context(postgres_database("kader_restored"))

    def identity(self, url: str | None = None) -> dict[str, str]:
        return dict(Store(url or self.url).rows("SELECT key, value FROM sync_meta"))

    def device(self, role: str = "kader", wilayah: str = DESA_GEROKGAK) -> Device:
        assert self.server is not None
        return Device(self.server, self.server.login(*self.store.user(role, wilayah)))


@pytest.fixture(scope="module")
def template(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database with the regions loaded, copied for each test (loading regions is slow)."""
    with ExitStack() as stack:
        if db_url.startswith("sqlite"):
            url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('template') / 'kader.sqlite3'}"
        else:
            url = stack.enter_context(postgres_database("kader_backup_template"))
        upgrade(url)
        Store(url).run(lambda s: load_wilayah(s, GEROKGAK))
        Store(url).close()  # PostgreSQL copies a template only while no one is connected to it
        yield url


@pytest.fixture
def site(template: str, tmp_path: Path) -> Iterator[Site]:
    """An installation of its own, its server started (tests using it are marked slow: each starts
    servers and runs `kader backup`/`restore` as processes; the whole suite runs them)."""
    with ExitStack() as stack:
        if template.startswith("sqlite"):
            url = f"sqlite+aiosqlite:///{tmp_path / 'kader.sqlite3'}"
            with closing(sqlite3.connect(make_url(template).database)) as src, \
                    closing(sqlite3.connect(make_url(url).database)) as dst:
                src.backup(dst)
        else:
            name = f"kader_backup_{uuid.uuid4().hex[:12]}"
            asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"'))
            stack.callback(lambda: asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))
            url = make_url(template).set(database=name).render_as_string(hide_password=False)
        # Every installation has its own identity (a copy would share the template's).
        Store(url).scalar("UPDATE sync_meta SET value = :v WHERE key = 'database_id' RETURNING value",
                          v=str(uuid.uuid4()))
        site = Site(url, tmp_path, stack=stack)
        site.start()
        try:
            yield site
        finally:
            site.stop()


def pull(device: Device, cursor: str | None = None) -> Any:
    with device.http() as c:
        return c.get("/api/sync/pull", params={"cursor": cursor} if cursor else {})


def replay(m: dict[str, Any], origin: str) -> dict[str, Any]:
    return {**m, "origin": origin}


# --- the command line ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_backup_taken_while_cadres_push_is_consistent_and_restores_into_a_fresh_database(site: Site) -> None:
    phone = site.device()
    source_id = site.identity()["database_id"]
    stop = threading.Event()
    pushed: list[dict[str, Any]] = []

    def keep_pushing() -> None:
        while not stop.is_set():
            [r] = phone.push(mutation("create", "pengkajian", uuid.uuid4(), {**MASALAH, "uraian": f"n{len(pushed)}"}))
            pushed.append(r)

    writer = threading.Thread(target=keep_pushing)
    writer.start()
    try:
        while len(pushed) < 5:
            threading.Event().wait(0.05)
        backup = site.data_dir / "kader.backup"
        assert "ditulis" in site.ok("backup", str(backup))
        after_backup = len(pushed)
        while len(pushed) < after_backup + 3:  # and a few more after it
            threading.Event().wait(0.05)
    finally:
        stop.set()
        writer.join()
    assert all(r["status"] == "applied" for r in pushed)

    target = site.fresh_database("restored")
    out = site.ok("restore", str(backup), url=target)
    assert "dipulihkan" in out
    restored = Store(target)
    # One transaction per push: each record came with its history entry and its stored answer, or not at all.
    records = restored.scalar("SELECT count(*) FROM pengkajian")
    assert records >= 5
    assert restored.scalar("SELECT count(*) FROM history WHERE table_name = 'pengkajian'") == records
    assert restored.scalar("SELECT count(*) FROM processed_mutations") == records
    top = restored.scalar("SELECT max(change_seq) FROM history")
    meta = site.identity(target)
    assert meta["database_id"] != source_id
    assert meta["restored_at_seq"] == str(restored.scalar("SELECT value FROM sync_counter")) and int(
        meta["restored_at_seq"]) >= top
    assert f'"{source_id}": {meta["restored_at_seq"]}' in meta["ancestors"]
    # The source goes on untouched, with everything.
    assert site.store.scalar("SELECT count(*) FROM pengkajian") == len(pushed)
    assert site.identity()["database_id"] == source_id


@pytest.mark.slow
def test_restore_refuses_what_is_not_a_backup_and_changes_nothing(site: Site) -> None:
    phone = site.device()
    phone.push(mutation("create", "pengkajian", uuid.uuid4(), MASALAH))
    before = site.identity()
    junk = site.data_dir / "junk.bin"
    junk.write_bytes(b"not a backup at all")
    done = site.kader("restore", str(junk))
    assert done.returncode == 2 and "error:" in done.stderr and "junk.bin" in done.stderr
    done = site.kader("restore", str(site.data_dir / "missing.backup"))
    assert done.returncode == 2 and "does not exist" in done.stderr
    backup = site.data_dir / "one.backup"
    site.ok("backup", str(backup))
    done = site.kader("backup", str(backup))
    assert done.returncode == 2 and "exists already" in done.stderr
    assert site.identity() == before
    assert site.store.scalar("SELECT count(*) FROM pengkajian") == 1


@pytest.mark.slow
def test_a_hand_restore_is_made_known_by_a_new_identity(site: Site) -> None:
    phone = site.device()
    phone.push(mutation("create", "pengkajian", uuid.uuid4(), MASALAH))
    phone.pull_all()
    old = site.identity()["database_id"]
    out = site.ok("sync", "new-identity")
    new = site.identity()
    assert new["database_id"] != old and new["database_id"] in out
    r = pull(phone, phone.cursor)
    assert r.status_code == 410 and r.json()["code"] == "database_replaced"
    assert r.headers["content-type"].startswith("application/problem+json")


# --- the engine after a restore ------------------------------------------------------------------------

@pytest.mark.slow
def test_phones_that_synced_after_the_backup_recover_everything_exactly_once(site: Site) -> None:
    phone, other = site.device(), site.device()
    old_id = site.identity()["database_id"]

    # Before the backup: the phone creates r1 and r3; everyone has them at version 1.
    r1, r3, r4 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    before = [mutation("create", "pengkajian", r1, MASALAH), mutation("create", "pengkajian", r3, MASALAH),
              mutation("create", "pengkajian", r4, MASALAH)]
    answers_before = phone.push(*before)
    assert [a["status"] for a in answers_before] == ["applied"] * 3
    phone.pull_all()
    backup = site.data_dir / "kader.backup"
    site.ok("backup", str(backup))

    # After the backup, acknowledged by the old database and then lost with it.
    r2 = uuid.uuid4()
    after = [mutation("create", "pengkajian", r2, {**MASALAH, "uraian": "Dibuat setelah cadangan"}),
             mutation("update", "pengkajian", r1, {"penyebab": "Saluran tersumbat"}, base_version=1),
             mutation("update", "pengkajian", r3, {"uraian": "Uraian dari HP"}, base_version=1),
             mutation("update", "pengkajian", r4, {"penyebab": "Hujan deras"}, base_version=1)]
    assert [a["status"] for a in phone.push(*after)] == ["applied"] * 4
    # Her second edit of r4 was made on version 2, a version only the lost timeline had.
    r4_second = mutation("update", "pengkajian", r4, {"uraian": "Uraian kedua dari HP"}, base_version=2)
    [a] = phone.push(r4_second)
    assert a["status"] == "applied" and a["version"] == 3
    old_cursor = phone.cursor

    site.stop()
    out = site.ok("restore", str(backup))
    meta = site.identity()
    assert meta["database_id"] != old_id and meta["database_id"] in out
    assert site.store.scalar("SELECT count(*) FROM pengkajian WHERE id = :i", i=_id(site, r2)) == 0
    server = site.start()
    phone.server = other.server = server

    # The old cursor is another database's: 410 database_replaced, told apart from a plain resync.
    r = pull(phone, old_cursor)
    assert r.status_code == 410 and r.json()["code"] == "database_replaced"
    # After the restore another cadre changes r3's and r4's uraian (both at version 1 here).
    [a3, a4] = other.push(mutation("update", "pengkajian", r3, {"uraian": "Uraian dari kader lain"}, base_version=1),
                          mutation("update", "pengkajian", r4, {"uraian": "Uraian r4 kader lain"}, base_version=1))
    assert a3["status"] == a4["status"] == "applied"

    # The phone sends again everything it had sent, in order, marked with the identity it was made under.
    answers = phone.push(*[replay(m, old_id) for m in before + after])
    push_identity = phone.push_raw([]).json()["database_id"]
    assert push_identity == meta["database_id"]
    # Before the backup: the restored database holds those answers; given again, nothing written twice.
    assert answers[:3] == answers_before
    # After the backup: applied again (r2 created, r1 edited), or merged against the other cadre's edit.
    assert [a["status"] for a in answers[3:5]] == ["applied", "applied"]
    # r3: both changed uraian since the shared version 1: a conflict, the other cadre's value stays.
    assert answers[5]["status"] == "conflict" and answers[5]["conflict_fields"] == ["uraian"]
    assert answers[6]["status"] == "merged"  # r4 penyebab: the other cadre changed only uraian
    # r4's second edit names version 2 of the lost timeline. Here version 2 is the other cadre's: taken
    # as seen, her uraian would silently overwrite it. Moved onto the shared version 1, it is a conflict.
    [again] = phone.push(replay(r4_second, old_id))
    assert again["status"] == "conflict" and again["conflict_fields"] == ["uraian"]

    rows = {str(rid): list(row) for rid, *row in site.store.rows(
        "SELECT id, uraian, penyebab FROM pengkajian WHERE id IN (:a, :b, :c, :d)",
        a=_id(site, r1), b=_id(site, r2), c=_id(site, r3), d=_id(site, r4))}
    assert rows[str(r1)] == ["Jalan dusun tergenang", "Saluran tersumbat"]
    assert rows[str(r2)][0] == "Dibuat setelah cadangan"
    assert rows[str(r3)][0] == "Uraian dari kader lain"
    assert rows[str(r4)] == ["Uraian r4 kader lain", "Hujan deras"]
    held = site.store.rows("SELECT field_values FROM conflicts WHERE record_id IN (:c, :d)",
                           c=_id(site, r3), d=_id(site, r4))
    mine = sorted(_json(v)["uraian"]["mine"] for (v,) in held)
    assert mine == ["Uraian dari HP", "Uraian kedua dari HP"]  # nothing she typed is lost
    # Exactly once: every mutation of the phone has one stored answer and made its changes once.
    ids = [m["mutation_id"] for m in before + after + [r4_second]]
    assert site.store.scalar("SELECT count(*) FROM processed_mutations WHERE client_id = :c",
                             c=_uuid(site, phone.client_id)) == len(ids)
    assert site.store.scalar("SELECT count(*) FROM history WHERE record_id = :i AND op = 'create'",
                             i=_id(site, r2)) == 1
    # And a pull from the start hands out cursors of the new identity.
    phone.cursor = None
    phone.pull_all()
    assert phone.cursor is not None and phone.cursor.split("@")[2] == meta["database_id"]


def test_an_origin_never_seen_here_shares_nothing_so_edits_conflict_instead_of_overwriting(
        server: LiveServer, store: Store) -> None:
    phone, other = (Device(server, server.login(*store.user("kader", DESA_GEROKGAK))) for _ in range(2))
    rid = uuid.uuid4()
    phone.push(mutation("create", "pengkajian", rid, MASALAH))
    other.push(mutation("update", "pengkajian", rid, {"uraian": "Dari kader lain"}, base_version=1))
    # Version 2 exists here, but this mutation counts versions of a database nobody here knows.
    [a] = phone.push(replay(mutation("update", "pengkajian", rid, {"uraian": "Dari HP"}, base_version=2),
                            str(uuid.uuid4())))
    assert a["status"] == "conflict"
    assert store.scalar("SELECT uraian FROM pengkajian WHERE id = :i", i=_id(store, rid)) == "Dari kader lain"


def test_a_cursor_from_before_identities_still_works_and_a_bad_origin_is_refused(server: LiveServer,
                                                                                 store: Store) -> None:
    phone = Device(server, server.login(*store.user("kader", DESA_GEROKGAK)))
    phone.push(mutation("create", "pengkajian", uuid.uuid4(), MASALAH))
    page = pull(phone).json()
    seq, scope, database_id, _purge_mark = page["next_cursor"].split("@")
    identity = store.scalar("SELECT value FROM sync_meta WHERE key = 'database_id'")
    assert database_id == page["database_id"] == identity and scope == DESA_GEROKGAK
    assert pull(phone, f"{seq}@{scope}").status_code == 200  # phones of the previous version
    r = phone.push_raw([replay(mutation("create", "pengkajian", uuid.uuid4(), MASALAH), "not-a-uuid")])
    assert r.status_code == 400 and r.json()["code"] == "validation_failed" and "origin" in r.json()["detail"]


# --- helpers -------------------------------------------------------------------------------------------

def _id(site: Site | Store, rid: uuid.UUID) -> object:
    """A UUID as the engine binds it in raw SQL (SQLite stores its text form)."""
    return str(rid) if site.url.startswith("sqlite") else rid


def _uuid(site: Site, rid: uuid.UUID) -> object:
    return _id(site, rid)


def _json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value
