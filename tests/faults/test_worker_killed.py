"""One worker of a multi-worker server SIGKILLed in the middle of a push (PostgreSQL, where several
workers are meant to run; SQLite deployments keep one worker, whose death tests/server/test_sync_faults.py
covers).

The test holds the row lock on ``sync_counter`` (as test_sync_faults does), so the push blocks at its very
last step with every row written in its open transaction. It finds the worker that serves the push from
the database side (the backend's client port belongs to one worker's socket), kills exactly that worker,
and checks: the client gets an error or a dropped connection; the other worker kept serving; the
supervisor started a replacement; nothing of the batch is stored; the retry (same mutation ids) is stored
exactly once.
"""

from __future__ import annotations

import os
import signal
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DESA_GEROKGAK, LiveServer, Store, children, start_server, stop_server
from tests.faults.helpers import COUNTER_ROW, HeldLock, backends_waiting, first_results, record_ids
from tests.support.pushes import counter, large_batch, stored_of_batch, wait_until
from tests.syncing import Device

pytestmark = [pytest.mark.slow, pytest.mark.only_postgresql]


@pytest.fixture
def two_workers(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    live = start_server(db_url, tmp_path, workers=2)
    yield live
    stop_server(live)


def workers(server: LiveServer) -> list[int]:
    """The supervisor's worker processes (its other child is multiprocessing's resource tracker)."""
    found = []
    for pid in children(server.process):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        if b"resource_tracker" not in cmdline:
            found.append(pid)
    return found


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def inode_of_local_port(port: int) -> str:
    """The socket inode of the TCP connection whose local end is ``port`` (a worker's link to PostgreSQL)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                return fields[9]
    raise AssertionError(f"no TCP socket with local port {port}")


def worker_serving(store: Store, backend: int, workers: list[int]) -> int:
    """The worker process that owns the database connection of ``backend``."""
    port = store.scalar("SELECT client_port FROM pg_stat_activity WHERE pid = :p", p=backend)
    inode = inode_of_local_port(port)
    [worker] = [w for w in workers if inode in socket_inodes(w)]
    return worker


def test_a_worker_killed_mid_push_loses_nothing_the_other_serves_on_and_the_retry_stores_once(
        two_workers: LiveServer, store: Store, db_url: str) -> None:
    size = 200
    device = Device(two_workers, two_workers.login(*store.user("kader", DESA_GEROKGAK)))
    musyawarah_id = uuid.uuid4()
    batch = large_batch(musyawarah_id, size)
    wait_until(lambda: len(workers(two_workers)) == 2, "two workers")
    workers_before = workers(two_workers)
    seq_before = counter(store)
    outcome: dict[str, Any] = {}

    def push() -> None:
        try:
            outcome["response"] = device.push_raw(batch)
        except httpx.HTTPError as e:  # the worker died under the request
            outcome["error"] = e

    sender = threading.Thread(target=push, daemon=True)
    with HeldLock(db_url, COUNTER_ROW):
        sender.start()
        wait_until(lambda: len(backends_waiting(store, "UPDATE sync_counter%")) == 1, "the push's last step")
        [backend] = backends_waiting(store, "UPDATE sync_counter%")
        doomed = worker_serving(store, backend, workers_before)
        [survivor] = [w for w in workers_before if w != doomed]
        os.kill(doomed, signal.SIGKILL)
        sender.join(30)
        # The survivor serves while the lock is still held and the replacement may not be up yet.
        for _ in range(5):
            with device.http() as c:
                assert c.get("/api/sync/pull", params={"limit": 1}).status_code == 200
    assert "response" not in outcome or outcome["response"].status_code >= 500, outcome
    # Lock released: the orphaned backend finishes its UPDATE, finds its client gone and rolls back.
    wait_until(lambda: not store.scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = :p", p=backend),
               "the killed worker's transaction to end")
    assert stored_of_batch(store, device, musyawarah_id) == (0, 0, 0, 0, 0), "half-written"
    assert counter(store) == seq_before

    wait_until(lambda: len(workers(two_workers)) == 2 and doomed not in workers(two_workers),
               "the supervisor to replace the killed worker")
    assert survivor in workers(two_workers), "the other worker must not have been restarted"

    retried = device.push_raw(batch)
    assert retried.status_code == 200, retried.text
    assert retried.json()["results"] == first_results(batch)
    assert stored_of_batch(store, device, musyawarah_id) == (1, size - 1, size, size, 1)
    again = device.push_raw(batch)  # whichever worker answers, it answers from what is stored
    assert again.status_code == 200 and again.json()["results"] == first_results(batch)
    assert counter(store) == seq_before + size
    pulled = {uuid.UUID(c["record_id"]) for c in device.pull_all(limit=1000)}
    assert set(record_ids(batch)) <= pulled
