"""Writers and pullers racing, over real HTTP (DESIGN.md §3.8, §5): no pull ever misses a change.

A pull moves its cursor to the last ``change_seq`` it received. If a change could commit with a number
below a cursor some puller already holds, that puller would never see it. The engine prevents that by
taking numbers at the end of each writing transaction from a row-locked counter (commit order) and by
reading every table of a page in one snapshot. This test hammers it: on PostgreSQL a server with three
worker processes, on SQLite one worker (its writers are serialised by SQLite's one write lock anyway);
six cadres push small batches concurrently while three others pull (3, 10 and 40 changes a page),
following cursors, until the writers stop and a last pull drains what is left. Records are created and
edited, on two tables, so a skipped change shows as a record a puller never saw or saw at an old version.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.models import Musyawarah, Pengkajian, User
from tests.conftest import LiveServer, Store, children, start_server, stop_server
from tests.syncing import Device, mutation

# The commit-order race: a server of its own (three workers on PostgreSQL) hammered for up to 45 s.
pytestmark = pytest.mark.slow

WRITERS, BATCHES = 6, 30
PAGES = (3, 10, 40)  # one puller each: small pages, so a stream is many pages, yet some keep up with the head
DEADLINE_S = 45.0


def _started_at(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def stop_server_and_workers(live: LiveServer) -> None:
    workers = {pid: _started_at(pid) for pid in children(live.process)}
    stop_server(live)  # SIGTERM: the supervisor stops its workers
    for pid, started in workers.items():
        # A worker left behind (its supervisor killed after the grace period) is ended by its id, if that
        # id still names the same process.
        if started is not None and _started_at(pid) == started:
            os.kill(pid, signal.SIGKILL)


class Writer(threading.Thread):
    """One cadre's phone: ``BATCHES`` pushes of 3 mutations (two creates, then an edit of a record it
    made in the previous batch). Keeps the version the server acknowledged for every record."""

    def __init__(self, device: Device, errors: list[str]) -> None:
        super().__init__(daemon=True)
        self.device, self.errors = device, errors
        self.acked: dict[tuple[str, str], int] = {}

    def run(self) -> None:
        try:
            with self.device.http() as http:
                self._push_all(http)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.errors.append(f"writer: {e!r}")

    def _push_all(self, http: httpx.Client) -> None:
        previous: uuid.UUID | None = None
        for b in range(BATCHES):
            pengkajian, musyawarah = uuid.uuid4(), uuid.uuid4()
            batch = [
                mutation("create", "pengkajian", pengkajian,
                         {"jenis": "masalah", "uraian": f"Masalah {b} dari {self.device.client_id}"}),
                mutation("create", "musyawarah", musyawarah, {"jenis": "musyawarah_dusun", "tanggal": "2026-04-01"}),
                mutation("update", "pengkajian", previous, {"lokasi": f"Banjar {b}"}, base_version=1)
                if previous else mutation("create", "pengkajian", uuid.uuid4(), {"jenis": "potensi", "uraian": "Laut"}),
            ]
            # A new connection for every push (as a phone's would be), so pushes spread over the workers.
            r = http.post("/api/sync/push", headers={"Connection": "close"},
                          json={"client_id": str(self.device.client_id), "protocol_version": 1,
                                "app_version": "test", "mutations": batch})
            if r.status_code != 200:
                self.errors.append(f"push answered {r.status_code}: {r.text[:300]}")
                return
            for m, result in zip(batch, r.json()["results"], strict=True):
                if result["status"] != "applied":
                    self.errors.append(f"unexpected result {result}")
                    return
                self.acked[(m["table"], m["record_id"])] = result["version"]
            previous = pengkajian


class Puller(threading.Thread):
    """One phone pulling all the time, ``limit`` changes a page, following the cursor; once the writers
    are done it pulls until nothing is left. Keeps every change in the order received, and counts the
    pages that reached the head of the stream (``has_more`` false) while the writers were still busy:
    those are the pulls racing commits."""

    def __init__(self, device: Device, limit: int, writers_done: threading.Event, errors: list[str]) -> None:
        super().__init__(daemon=True)
        self.device, self.limit, self.writers_done, self.errors = device, limit, writers_done, errors
        self.stream: list[tuple[int, str, str, int]] = []  # (change_seq, table, record_id, version)
        self.pages = self.at_head_while_writing = 0

    def run(self) -> None:
        deadline = time.monotonic() + DEADLINE_S
        try:
            with self.device.http() as http:
                while time.monotonic() < deadline:
                    last_round = self.writers_done.is_set()  # read before the request: its snapshot is later
                    params: dict[str, Any] = {"limit": self.limit}
                    if self.device.cursor:
                        params["cursor"] = self.device.cursor
                    r = http.get("/api/sync/pull", params=params)
                    if r.status_code != 200:
                        self.errors.append(f"pull answered {r.status_code}: {r.text[:300]}")
                        return
                    page = r.json()
                    self.pages += 1
                    self.stream += [(c["change_seq"], c["table"], c["record_id"], c["version"])
                                    for c in page["changes"]]
                    if len(page["changes"]) > self.limit:
                        self.errors.append(f"page of {len(page['changes'])} changes, limit {self.limit}")
                    last = page["changes"][-1]["change_seq"] if page["changes"] else None
                    # <change_seq>@<scope>@<database id>
                    if last is not None and page["next_cursor"].split("@")[:2] != [str(last), self.device.desa]:
                        self.errors.append(f"cursor {page['next_cursor']} is not the page's last change")
                    self.device.cursor = page["next_cursor"]
                    if not page["has_more"]:
                        if last_round:
                            return
                        self.at_head_while_writing += 1
                        time.sleep(0.005)
                self.errors.append("puller ran out of time")
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.errors.append(f"puller: {e!r}")


def test_no_pull_misses_a_change_committed_concurrently(db_url: str, store: Store, desa: str, tmp_path: Path) -> None:
    postgres = db_url.startswith("postgresql")
    live = start_server(db_url, tmp_path, {"KADER_DB_POOL_SIZE": "5"}, workers=3 if postgres else 1)
    try:
        accounts = [store.user("kader", desa) for _ in range(WRITERS + len(PAGES))]
        devices = [Device(live, live.login(*account)) for account in accounts]
        for device in devices:
            device.desa = desa  # type: ignore[attr-defined]
        errors: list[str] = []
        writers_done = threading.Event()
        writers = [Writer(d, errors) for d in devices[:WRITERS]]
        pullers = [Puller(d, limit, writers_done, errors) for d, limit in zip(devices[WRITERS:], PAGES, strict=True)]
        started = time.monotonic()
        for t in pullers + writers:
            t.start()
        for w in writers:
            w.join(max(0.0, started + DEADLINE_S - time.monotonic()))
        writers_done.set()
        for p in pullers:
            p.join(max(0.0, started + DEADLINE_S + 5 - time.monotonic()))
        assert not any(t.is_alive() for t in writers + pullers), "a thread is stuck"
        assert not errors, errors[:10]
    finally:
        stop_server_and_workers(live)

    acked: dict[tuple[str, str], int] = {}
    for w in writers:
        assert len(w.acked) == 3 * BATCHES - (BATCHES - 1), "each writer: 2 creates a batch, 3 in the first"
        acked.update(w.acked)
    assert len(acked) == WRITERS * (2 * BATCHES + 1)

    # The database holds exactly what was acknowledged, at the acknowledged versions.
    usernames = [a[0] for a in accounts[:WRITERS]]

    async def stored(s: Any) -> dict[tuple[str, str], int]:
        ids = list(await s.scalars(select(User.id).where(User.username.in_(usernames))))
        rows: dict[tuple[str, str], int] = {}
        for table, model in (("pengkajian", Pengkajian), ("musyawarah", Musyawarah)):
            for rid, version in (await s.execute(select(model.id, model.version).where(model.created_by.in_(ids)))):
                rows[(table, str(rid))] = version
        return rows

    assert store.run(stored) == acked

    owner: dict[int, tuple[str, str]] = {}
    for p in pullers:
        seqs = [c[0] for c in p.stream]
        backwards = [(a, b) for a, b in zip(seqs, seqs[1:], strict=False) if a >= b]
        assert not backwards, f"limit {p.limit}: change_seq must strictly increase along a stream: {backwards[:5]}"
        latest = {(table, rid): version for _, table, rid, version in p.stream}
        missed = sorted(k for k in acked if k not in latest)
        assert not missed, f"the puller with limit {p.limit} never saw {len(missed)} acknowledged records: {missed[:3]}"
        stale = {k: (latest[k], v) for k, v in acked.items() if latest[k] != v}
        assert not stale, f"limit {p.limit}: last version seen differs from the acknowledged one: {stale}"
        for seq, table, rid, _ in p.stream:  # one number, one change, whoever pulled it
            assert owner.setdefault(seq, (table, rid)) == (table, rid)
    # The race was real: every puller went round many times, and pulls reached the head of the stream (where
    # a change numbered below the cursor but not yet committed would be skipped) while the writers wrote.
    assert min(p.pages for p in pullers) >= 10, [p.pages for p in pullers]
    assert sum(p.at_head_while_writing for p in pullers) >= 5, [p.at_head_while_writing for p in pullers]
