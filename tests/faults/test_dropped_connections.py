"""Connections dropped half-way, as on a phone losing signal (both databases, raw sockets).

* A pull whose answer the phone abandons half-read: the phone's receive window is kept tiny, so when
  the connection is cut most of the answer (about 180 KB) is still queued on the server's side, unsent.
  The phone kept its old cursor, and the next pull from it gets every change.
* A push whose body is half-sent when the phone hangs up (announced by Content-Length, or chunked):
  nothing of it is stored, and the retry is stored once.

Each time the server keeps serving, and does not log the phone's disappearance as a server error.
(The client hanging up after the body is complete, while the server commits, is in
tests/server/test_sync_faults.py.)
"""

from __future__ import annotations

import socket
import struct
import time
import uuid
from urllib.parse import urlencode, urlsplit

import pytest

from server.models import SyncClient
from tests.conftest import DESA_GEROKGAK, LiveServer, Store
from tests.faults.helpers import first_results, masalah_batch, record_ids, request_head, stored
from tests.support.pushes import count, counter, envelope, wait_until
from tests.syncing import Device


@pytest.fixture
def kader(server: LiveServer, store: Store) -> Device:
    return Device(server, server.login(*store.user("kader", DESA_GEROKGAK)))


def connect(server: LiveServer, receive_buffer: int | None = None) -> socket.socket:
    url = urlsplit(server.url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer:  # before connecting, so the advertised TCP window stays small
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(10)
    sock.connect((url.hostname, url.port))
    return sock


def cut(sock: socket.socket) -> None:
    """Drop the connection the way a lost signal does to the server: a reset, nothing more read."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def server_errors_since(server: LiveServer, offset: int) -> list[str]:
    lines = server.log.read_bytes()[offset:].decode(errors="replace").splitlines()
    return [line for line in lines if '"level":"error"' in line or " ERROR " in line or "Traceback" in line]


def healthy(server: LiveServer) -> bool:
    with server.client() as c:
        return server.process.poll() is None and c.get("/api/health").status_code == 200


def test_a_pull_abandoned_half_read_changes_nothing_and_the_old_cursor_still_gets_everything(
        server: LiveServer, store: Store, kader: Device) -> None:
    kader.pull_all(limit=1000)
    old_cursor = kader.cursor
    writer = Device(server, server.login(*store.user("kader", DESA_GEROKGAK)))
    batch = masalah_batch(150, "Catatan panjang tentang kebutuhan air bersih dusun " * 8)
    assert [r["status"] for r in writer.push(*batch)] == ["applied"] * 150
    log_offset = server.log.stat().st_size

    query = urlencode({"limit": 1000, "client_id": str(kader.client_id)} | ({"cursor": old_cursor} if old_cursor
                                                                           else {}))
    for read_before_cut in (0, 100, 5000):
        sock = connect(server, receive_buffer=4096)
        sock.sendall(request_head(server, "GET", f"/api/sync/pull?{query}", kader.token, {}))
        got = b""
        while len(got) < max(read_before_cut, 1):
            got += sock.recv(min(4096, max(read_before_cut, 1) - len(got)))
        assert got.startswith(b"HTTP/1.1 200"[:len(got)])
        time.sleep(0.3)  # the rest waits in the server's send queue behind the phone's full window
        cut(sock)

    wait_until(lambda: healthy(server), "the server to answer after the abandoned pulls")
    kader.cursor = old_cursor
    pulled = [uuid.UUID(c["record_id"]) for c in kader.pull_all(limit=1000)]
    assert sorted(pulled) == sorted(record_ids(batch)), "the pull from the old cursor gets each change once"
    assert server_errors_since(server, log_offset) == []


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_push_cut_off_half_sent_stores_nothing_and_the_retry_stores_it_once(
        server: LiveServer, store: Store, kader: Device, chunked: bool) -> None:
    batch = masalah_batch(40, "Rencana perbaikan jalan usaha tani")
    body = envelope(kader, batch)
    seq = counter(store)
    log_offset = server.log.stat().st_size

    for hang_up in (cut, socket.socket.close):  # a reset, and an orderly close
        sock = connect(server)
        if chunked:
            half = body[:len(body) // 2]
            head = request_head(server, "POST", "/api/sync/push", kader.token,
                                {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
            sock.sendall(head + b"%x\r\n%s\r\n" % (len(half), half))
        else:
            head = request_head(server, "POST", "/api/sync/push", kader.token,
                                {"Content-Type": "application/json", "Content-Length": str(len(body))})
            sock.sendall(head + body[:len(body) // 2])
        time.sleep(0.3)  # the server has read the half and waits for the rest
        hang_up(sock)
        time.sleep(0.3)

    wait_until(lambda: healthy(server), "the server to answer after the cut-off pushes")
    assert stored(store, kader, batch) == (0, 0, 0), "half-written"
    assert count(store, SyncClient, SyncClient.id == kader.client_id) == 0
    assert counter(store) == seq

    retried = kader.push_raw(batch)
    assert retried.status_code == 200, retried.text
    assert retried.json()["results"] == first_results(batch)
    assert stored(store, kader, batch) == (40, 40, 40)
    assert server_errors_since(server, log_offset) == []
