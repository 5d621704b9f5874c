"""Faults around a push, over real HTTP on both databases (DESIGN.md §3.3, §5).

* An answer lost after the server committed: the retry changes nothing and answers as the first time.
* The client giving up (closing the connection) while the server is still working: the server finishes
  and commits anyway, and the retry is answered from what was stored.
* The server process SIGKILLed in the middle of a large push: nothing of that batch is stored, and the
  retry, on a freshly started server, stores everything exactly once.

On PostgreSQL the test holds the row lock on ``sync_counter`` from a connection of its own: a push takes
its change numbers as the very last step of its transaction, after every row is written, so it blocks
there and the test knows the transaction is open and full when it closes the connection or kills the
server. SQLite has no such hook (its write lock is taken at the start of a transaction, and nothing
can delay its COMMIT), so there the timing is chosen to land inside the transaction, and the check is
the one that holds wherever it lands: all or nothing.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.engine import make_url

from server.models import History, Pengkajian, ProcessedMutation
from server.models.sync import Conflict
from tests.conftest import DESA_GEROKGAK, LiveServer, Store, start_server, stop_server
from tests.support.pushes import MASALAH, count, counter, envelope, large_batch, stored_of_batch, wait_until
from tests.syncing import Device, mutation


@pytest.fixture
def kader(server: LiveServer, store: Store) -> Device:
    return Device(server, server.login(*store.user("kader", DESA_GEROKGAK)))


# --- helpers --------------------------------------------------------------------------------------------


def send_without_reading(server: LiveServer, token: str, body: bytes) -> socket.socket:
    """POST a push on a raw socket and return the socket without reading anything from it."""
    url = urlsplit(server.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    head = (f"POST /api/sync/push HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    sock.sendall(head.encode() + body)
    return sock


def hang_up(sock: socket.socket) -> None:
    """Close abruptly (RST): whatever answer the server sent or will send is never read."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class AnyDatabaseId(str):
    """Equal to any database id (a UUID); the answer names the server's database since backups exist."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and len(other) == 36 and other.count("-") == 4

    __hash__ = str.__hash__


def first_answer(batch: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer a push of fresh creates gets the first time round."""
    return {"results": [{"mutation_id": m["mutation_id"], "record_id": m["record_id"], "status": "applied",
                         "version": 1} for m in batch], "protocol_version": 1, "database_id": AnyDatabaseId()}


def is_postgres(store: Store) -> bool:
    return store.url.startswith("postgresql")


class CounterLock:
    """PostgreSQL: an open transaction holding the row lock of ``sync_counter``. Every push that writes
    anything blocks at its last step (numbering its changes) until ``release``."""

    def __init__(self, db_url: str) -> None:
        import asyncpg

        u = make_url(db_url)
        self._loop = asyncio.new_event_loop()
        self._conn = self._loop.run_until_complete(
            asyncpg.connect(host=u.host, port=u.port, user=u.username, database=u.database))
        self._loop.run_until_complete(
            self._conn.execute("BEGIN; SELECT value FROM sync_counter WHERE id = 1 FOR UPDATE"))
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self._loop.run_until_complete(self._conn.execute("ROLLBACK"))
            self._loop.run_until_complete(self._conn.close())
            self._loop.close()


@contextmanager
def counter_locked(db_url: str) -> Iterator[CounterLock]:
    lock = CounterLock(db_url)
    try:
        yield lock
    finally:
        lock.release()


def pushes_waiting_for_counter(store: Store) -> list[int]:
    """Backends of this database blocked in the counter UPDATE, i.e. with a push's rows all written."""
    return [r[0] for r in store.rows(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
        "AND query ILIKE 'UPDATE sync_counter%'")]


def backend_alive(store: Store, pid: int) -> bool:
    return bool(store.scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = :p", p=pid))


def holds_row_locks_on(store: Store, pid: int, table: str) -> bool:
    return bool(store.scalar(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE l.pid = :p AND c.relname = :t AND l.mode = 'RowExclusiveLock'", p=pid, t=table))


@contextmanager
def sqlite_write_lock(db_url: str) -> Iterator[None]:
    """SQLite: hold the one write lock, so that a push waits at the start of its transaction."""
    conn = sqlite3.connect(make_url(db_url).database, timeout=10, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def sqlite_writer_active(db_url: str) -> bool:
    """Whether some connection holds SQLite's write lock right now (probing it without waiting)."""
    conn = sqlite3.connect(make_url(db_url).database, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            return True
        raise
    finally:
        conn.close()


# --- a. lost answers and retries ------------------------------------------------------------------------


def test_an_answer_lost_after_commit_is_given_again_on_retry_with_nothing_duplicated(
        server: LiveServer, store: Store, kader: Device) -> None:
    batch = [mutation("create", "pengkajian", uuid.uuid4(), {**MASALAH, "uraian": f"Sumur {n} kering"})
             for n in range(5)]
    ids = [uuid.UUID(m["record_id"]) for m in batch]
    sock = send_without_reading(server, kader.token, envelope(kader, batch))
    try:
        wait_until(lambda: count(store, ProcessedMutation, ProcessedMutation.client_id == kader.client_id) == 5,
                   "the push to be committed")
    finally:
        hang_up(sock)  # the answer, already sent, is lost with the connection
    stored = (count(store, Pengkajian, Pengkajian.id.in_(ids)), count(store, History, History.record_id.in_(ids)))
    assert stored == (5, 5)
    seq_before = counter(store)

    retried = kader.push_raw(batch)
    assert retried.status_code == 200, retried.text
    assert retried.json() == first_answer(batch)
    assert count(store, Pengkajian, Pengkajian.id.in_(ids)) == 5
    assert count(store, History, History.record_id.in_(ids)) == 5
    assert count(store, ProcessedMutation, ProcessedMutation.client_id == kader.client_id) == 5
    assert counter(store) == seq_before, "a retry must not take new change numbers"
    assert [c["version"] for c in kader.pull_all() if uuid.UUID(c["record_id"]) in ids] == [1] * 5


def test_a_client_that_hangs_up_mid_push_finds_it_committed_and_the_retry_answers_the_same(
        server: LiveServer, store: Store, kader: Device) -> None:
    """The phone's request times out while the server is still working (the connection is gone before
    the commit). The server still commits; the retry is answered from what was stored."""
    batch = [mutation("create", "pengkajian", uuid.uuid4(), {**MASALAH, "uraian": f"Jembatan {n} retak"})
             for n in range(4)]
    ids = [uuid.UUID(m["record_id"]) for m in batch]
    if is_postgres(store):
        with counter_locked(store.url):
            sock = send_without_reading(server, kader.token, envelope(kader, batch))
            wait_until(lambda: bool(pushes_waiting_for_counter(store)), "the push to reach its last step")
            hang_up(sock)  # rows written, transaction open, nobody listening any more
            time.sleep(0.3)  # let the server notice the hang-up before it may go on
    else:
        with sqlite_write_lock(store.url):
            sock = send_without_reading(server, kader.token, envelope(kader, batch))
            time.sleep(0.5)  # the server reads the body, then waits for the write lock
            hang_up(sock)
            time.sleep(0.3)
    wait_until(lambda: count(store, ProcessedMutation, ProcessedMutation.client_id == kader.client_id) == 4,
               "the abandoned push to be committed")

    retried = kader.push_raw(batch)
    assert retried.status_code == 200, retried.text
    assert retried.json() == first_answer(batch)
    assert count(store, Pengkajian, Pengkajian.id.in_(ids)) == 4
    assert count(store, History, History.record_id.in_(ids)) == 4


def test_a_retry_sent_while_the_lost_push_is_still_running_waits_for_it_and_answers_the_same(
        server: LiveServer, store: Store, kader: Device) -> None:
    """The phone gives up and retries at once, while the server is still inside the first push."""
    batch = [mutation("create", "pengkajian", uuid.uuid4(), {**MASALAH, "uraian": f"Lampu jalan {n} padam"})
             for n in range(3)]
    ids = [uuid.UUID(m["record_id"]) for m in batch]
    answer: dict[str, httpx.Response] = {}
    retry = threading.Thread(target=lambda: answer.update(r=kader.push_raw(batch)), daemon=True)
    if is_postgres(store):
        with counter_locked(store.url):
            sock = send_without_reading(server, kader.token, envelope(kader, batch))
            wait_until(lambda: bool(pushes_waiting_for_counter(store)), "the first push to reach its last step")
            hang_up(sock)
            retry.start()
            # The retry queues behind the first push's lock on this client's row.
            wait_until(lambda: store.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query ILIKE '%sync_clients%'") == 1, "the retry to wait")
    else:
        with sqlite_write_lock(store.url):  # both requests wait for the write lock, in either order
            sock = send_without_reading(server, kader.token, envelope(kader, batch))
            time.sleep(0.3)
            hang_up(sock)
            retry.start()
            time.sleep(0.3)
    retry.join(30)
    assert answer["r"].status_code == 200, answer["r"].text
    assert answer["r"].json() == first_answer(batch)
    assert count(store, Pengkajian, Pengkajian.id.in_(ids)) == 3
    assert count(store, History, History.record_id.in_(ids)) == 3
    assert count(store, ProcessedMutation, ProcessedMutation.client_id == kader.client_id) == 3


def test_a_batch_sent_twice_gets_byte_for_byte_the_same_answer(
        server: LiveServer, store: Store, kader: Device) -> None:
    other = Device(server, server.login(*store.user("kader", DESA_GEROKGAK)))
    edited, deleted = uuid.uuid4(), uuid.uuid4()
    for rid in (edited, deleted):
        [r] = other.push(mutation("create", "pengkajian", rid, MASALAH))
        assert r["status"] == "applied"
    [r] = other.push(mutation("update", "pengkajian", edited, {"uraian": "Versi kader lain"}, base_version=1))
    assert r["status"] == "applied"
    fresh = uuid.uuid4()
    batch = [
        mutation("create", "pengkajian", fresh, MASALAH),
        mutation("update", "pengkajian", fresh, {"lokasi": "Dekat balai banjar"}, base_version=1),
        mutation("update", "pengkajian", edited, {"uraian": "Versi saya", "penyebab": "Pipa bocor"}, base_version=1),
        mutation("delete", "pengkajian", deleted, base_version=1),
        mutation("create", "pengkajian", uuid.uuid4(), {"uraian": "tanpa jenis"}),
        mutation("create", "tabel_khayalan", uuid.uuid4(), {}),
    ]
    ids = [fresh, edited, deleted]
    first = kader.push_raw(batch)
    assert first.status_code == 200, first.text
    statuses = [r["status"] for r in first.json()["results"]]
    assert statuses == ["applied", "applied", "conflict", "applied", "rejected", "rejected"]
    history, conflicts, seq = (count(store, History, History.record_id.in_(ids)),
                               count(store, Conflict, Conflict.record_id.in_(ids)), counter(store))

    again = kader.push_raw(batch)
    assert again.status_code == 200
    assert again.content == first.content
    assert (count(store, History, History.record_id.in_(ids)), count(store, Conflict, Conflict.record_id.in_(ids)),
            counter(store)) == (history, conflicts, seq)


# --- b. the server killed mid-push ----------------------------------------------------------------------


# SQLite has no row lock to hold a push at its last step, so the kill lands by timing: after the push has
# taken the write lock, a little later each try, until one lands before the push's answer (a fast push may
# be done before the first). Each try is a new server and a new batch.
SQLITE_KILL_AFTER = (0.02, 0.01, 0.005, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


@pytest.mark.slow
def test_a_server_killed_mid_push_leaves_nothing_half_written_and_the_retry_stores_it_once(
        db_url: str, store: Store, tmp_path: Path) -> None:
    size = 400
    username, password = store.user("kader", DESA_GEROKGAK)
    seq_before = counter(store)
    for delay in (None,) if is_postgres(store) else SQLITE_KILL_AFTER:
        doomed = start_server(db_url, tmp_path)
        device = Device(doomed, doomed.login(username, password))
        musyawarah_id = uuid.uuid4()
        batch = large_batch(musyawarah_id, size)
        outcome: dict[str, Any] = {}

        def push_in_flight(device: Device = device, batch: list[dict[str, Any]] = batch,
                           outcome: dict[str, Any] = outcome) -> None:
            try:
                outcome["response"] = device.push_raw(batch)
            except httpx.HTTPError as e:  # the server died under the request: the answer is lost
                outcome["error"] = e

        sender = threading.Thread(target=push_in_flight, daemon=True)
        try:
            if is_postgres(store):
                with counter_locked(db_url):
                    sender.start()
                    wait_until(lambda: bool(pushes_waiting_for_counter(store)), "the push to reach its last step")
                    [pid] = pushes_waiting_for_counter(store)
                    # All 400 answers are written in the open transaction and its rows locked for the batch;
                    # only numbering, the rows and history (written once, numbered) and COMMIT are left.
                    assert holds_row_locks_on(store, pid, "processed_mutations")
                    doomed.process.kill()
                    doomed.process.wait(10)
                # Lock released: the orphaned backend runs on, finds its client gone and rolls back.
                wait_until(lambda pid=pid: not backend_alive(store, pid), "the killed server's transaction to end")
            else:
                sender.start()
                # Probe without pause: a fast push holds the write lock for only tens of milliseconds.
                deadline = time.monotonic() + 10
                while sender.is_alive() and not sqlite_writer_active(db_url):
                    assert time.monotonic() < deadline, "the push never opened its write transaction"
                time.sleep(delay or 0)
                doomed.process.kill()
                doomed.process.wait(10)
            sender.join(30)
        finally:
            if doomed.process.poll() is None:
                stop_server(doomed)
        if "response" not in outcome or outcome["response"].status_code != 200:
            break  # the kill landed before the answer
    assert "response" not in outcome or outcome["response"].status_code != 200, "the push finished before the kill"

    stored = stored_of_batch(store, device, musyawarah_id)
    assert stored in {(0, 0, 0, 0, 0), (1, size - 1, size, size, 1)}, f"half-written batch: {stored}"
    if is_postgres(store):
        assert stored == (0, 0, 0, 0, 0) and counter(store) == seq_before

    revived = start_server(db_url, tmp_path)
    try:
        device.server = revived  # same phone, same token, same outbox
        retried = device.push_raw(batch)
        assert retried.status_code == 200, retried.text
        assert retried.json() == first_answer(batch)
        assert stored_of_batch(store, device, musyawarah_id) == (1, size - 1, size, size, 1)
        pulled = [c for c in device.pull_all(limit=1000)
                  if c["record_id"] == str(musyawarah_id)
                  or (c["table"] == "kehadiran" and (c["row"] or {}).get("musyawarah_id") == str(musyawarah_id))]
        assert len(pulled) == size and {c["version"] for c in pulled} == {1}
        assert len({c["change_seq"] for c in pulled}) == size
    finally:
        stop_server(revived)
