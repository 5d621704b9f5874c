"""PostgreSQL going away under a running server (a restart, a failover, a crash of the database host).

On a private cluster (tests/faults/conftest.py), never the machine's shared one. Each time:

* the client gets a retryable answer: ``503 database_unavailable`` with ``Retry-After`` (or, when the
  database vanishes mid-request, possibly a dropped connection, which a phone also retries);
* nothing of the interrupted transaction is stored;
* the same server process, never restarted, serves again as soon as the database is back (its pool
  checks a connection before lending it, and throws away connections that failed);
* the retry, with the same mutation ids, is stored exactly once; the pull from the old cursor gets all.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import DESA_GEROKGAK, LiveServer, Store, start_server, stop_server
from tests.faults.conftest import PrivatePostgres
from tests.faults.helpers import (
    COUNTER_ROW,
    HeldLock,
    backends_waiting,
    first_results,
    is_retryable_problem,
    masalah_batch,
    record_ids,
    stored,
)
from tests.support.pushes import counter, wait_until
from tests.syncing import Device

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def private_store(private_db_url: str) -> Store:
    return Store(private_db_url)


@pytest.fixture(scope="module")
def private_server(private_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(private_db_url, tmp_path_factory.mktemp("server-private-pg"))
    yield live
    stop_server(live)


@pytest.fixture
def kader(private_server: LiveServer, private_store: Store) -> Device:
    return Device(private_server, private_server.login(*private_store.user("kader", DESA_GEROKGAK)))


def in_flight(call: Any) -> tuple[threading.Thread, dict[str, Any]]:
    """Run ``call()`` in a thread; its response, or the transport error, lands in the returned dict."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["response"] = call()
        except httpx.HTTPError as e:
            outcome["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def assert_retryable(outcome: dict[str, Any]) -> None:
    """The interrupted request was answered 503 database_unavailable with Retry-After. (A dropped
    connection would also be retried by a phone, but this server answers: it holds the connection.)"""
    assert "response" in outcome, f"no answer: {outcome.get('error')!r}"
    r = outcome["response"]
    assert is_retryable_problem(r), f"{r.status_code} {r.headers} {r.text}"


def same_process(server: LiveServer, pid: int) -> None:
    assert server.process.pid == pid and server.process.poll() is None, "the server had to be restarted"


def test_a_stopped_database_answers_503_retryable_and_the_server_recovers_by_itself(
        private_postgres: PrivatePostgres, private_server: LiveServer, private_store: Store, kader: Device) -> None:
    pid = private_server.process.pid
    batch = masalah_batch(3, "Sumur kering")
    private_postgres.stop()
    try:
        pushed = kader.push_raw(batch)
        assert is_retryable_problem(pushed), f"{pushed.status_code} {pushed.headers} {pushed.text}"
        with kader.http() as c:
            pulled = c.get("/api/sync/pull")
            health = c.get("/api/health")
        assert is_retryable_problem(pulled), f"{pulled.status_code} {pulled.text}"
        assert health.status_code == 503 and health.json()["database"] == "unreachable"
    finally:
        private_postgres.start()

    same_process(private_server, pid)
    assert stored(private_store, kader, batch) == (0, 0, 0)
    with kader.http() as c:
        assert c.get("/api/health").status_code == 200
    retried = kader.push_raw(batch)
    assert retried.status_code == 200, retried.text
    assert retried.json()["results"] == first_results(batch)
    assert stored(private_store, kader, batch) == (3, 3, 3)
    assert {uuid.UUID(c["record_id"]) for c in kader.pull_all()} >= set(record_ids(batch))


def test_a_database_restarted_mid_push_rolls_the_push_back_and_the_retry_stores_it_once(
        private_postgres: PrivatePostgres, private_server: LiveServer, private_store: Store, kader: Device) -> None:
    pid = private_server.process.pid
    batch = masalah_batch(20, "Jalan desa berlubang")
    seq_before = counter(private_store)
    lock = HeldLock(private_store.url, COUNTER_ROW)
    try:
        thread, outcome = in_flight(lambda: kader.push_raw(batch))
        # Every row of the batch is written in the open transaction; only numbering and COMMIT are left.
        wait_until(lambda: bool(backends_waiting(private_store, "UPDATE sync_counter%")), "the push's last step")
        private_postgres.restart()  # fast: open transactions rolled back, every connection cut
        thread.join(30)
    finally:
        lock.release()
    assert_retryable(outcome)

    same_process(private_server, pid)
    assert stored(private_store, kader, batch) == (0, 0, 0), "half-written"
    assert counter(private_store) == seq_before
    retried = kader.push_raw(batch)
    assert retried.status_code == 200, retried.text
    assert retried.json()["results"] == first_results(batch)
    assert stored(private_store, kader, batch) == (20, 20, 20)


def test_a_database_restarted_mid_pull_answers_retryable_and_the_pull_from_the_old_cursor_gets_everything(
        private_postgres: PrivatePostgres, private_server: LiveServer, private_store: Store, kader: Device) -> None:
    pid = private_server.process.pid
    batch = masalah_batch(30, "Saluran irigasi tersumbat")
    assert [r["status"] for r in kader.push(*batch)] == ["applied"] * 30
    old_cursor = kader.cursor
    lock = HeldLock(private_store.url, "LOCK TABLE pengkajian IN ACCESS EXCLUSIVE MODE")
    try:
        def pull() -> httpx.Response:
            with kader.http() as c:
                return c.get("/api/sync/pull", params={"limit": 1000, "client_id": str(kader.client_id)})

        thread, outcome = in_flight(pull)
        wait_until(lambda: bool(backends_waiting(private_store, "%pengkajian%")), "the pull to be reading")
        private_postgres.restart()
        thread.join(30)
    finally:
        lock.release()
    assert_retryable(outcome)

    same_process(private_server, pid)
    kader.cursor = old_cursor
    assert {uuid.UUID(c["record_id"]) for c in kader.pull_all()} >= set(record_ids(batch))



def test_pushes_and_pulls_running_through_two_restarts_each_land_exactly_once(
        private_postgres: PrivatePostgres, private_server: LiveServer, private_store: Store) -> None:
    """No hooks: three phones push and pull without pause while the database restarts twice. A phone
    retries what failed, with the same mutation ids, as the app's outbox does."""
    phones = [Device(private_server, private_server.login(*private_store.user("kader", DESA_GEROKGAK)))
              for _ in range(3)]
    batches = {p.client_id: [masalah_batch(8, f"Posyandu {n}") for n in range(6)] for p in phones}
    failures: list[str] = []  # what each failed attempt was answered: a retryable 503 or a transport error
    unexpected: list[str] = []
    stop = threading.Event()

    def attempt(call: Any) -> httpx.Response | None:
        try:
            r = call()
        except httpx.TransportError as e:
            failures.append(type(e).__name__)
            return None
        if r.status_code == 200:
            return r
        (failures if is_retryable_problem(r) else unexpected).append(f"{r.status_code} {r.text[:200]}")
        return None

    def phone(device: Device) -> None:
        for batch in batches[device.client_id]:
            for _ in range(100):
                r = attempt(lambda b=batch: device.push_raw(b))
                if r is not None:
                    assert r.json()["results"] == first_results(batch)
                    break
                time.sleep(0.05)
            else:
                unexpected.append("a push never got through")

    def puller(device: Device) -> None:
        with device.http() as c:
            while not stop.is_set():
                attempt(lambda: c.get("/api/sync/pull", params={"limit": 1000}))

    threads = [threading.Thread(target=phone, args=(p,), daemon=True) for p in phones]
    pulling = threading.Thread(target=puller, args=(phones[0],), daemon=True)
    for t in [*threads, pulling]:
        t.start()
    time.sleep(0.3)
    private_postgres.restart()
    time.sleep(0.3)
    private_postgres.restart()
    for t in threads:
        t.join(60)
    stop.set()
    pulling.join(30)

    assert not unexpected, unexpected
    assert failures, "the restarts hit no request: the test proved nothing"
    for p in phones:
        everything = [m for batch in batches[p.client_id] for m in batch]
        assert stored(private_store, p, everything) == (48, 48, 48)
    seen = [uuid.UUID(c["record_id"]) for c in phones[1].pull_all(limit=1000)]
    ours = {rid for p in phones for batch in batches[p.client_id] for rid in record_ids(batch)}
    assert sorted(r for r in seen if r in ours) == sorted(ours), "each record exactly once in the pull"
