"""Bodies above ``KADER_MAX_BODY_BYTES``: a push and a photo upload are refused with ``413 body_too_large``
whether the client announces the size (``Content-Length``) or streams it (``Transfer-Encoding: chunked``,
where the server only finds out while reading), and nothing is stored. Raw sockets, so that exactly the
framing under test goes over the wire. Both databases.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.models import SyncClient
from tests.conftest import DESA_GEROKGAK, LiveServer, Store, start_server, stop_server
from tests.faults.helpers import first_results, masalah_batch, raw_connection, read_response, request_head, stored
from tests.support.pushes import count, counter, envelope
from tests.syncing import Device

LIMIT = 16 * 1024


@pytest.fixture(scope="module")
def small_limit(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(db_url, tmp_path_factory.mktemp("server-small-limit"),
                        extra_env={"KADER_MAX_BODY_BYTES": str(LIMIT)})
    yield live
    stop_server(live)


@pytest.fixture
def kader(small_limit: LiveServer, store: Store) -> Device:
    return Device(small_limit, small_limit.login(*store.user("kader", DESA_GEROKGAK)))


def send(server: LiveServer, method: str, path: str, token: str, body: bytes, content_type: str,
         chunked: bool) -> tuple[int, dict[str, str], Any]:
    """One request on a fresh connection; the body announced by Content-Length or sent in 4 KiB chunks."""
    if chunked:
        framing = {"Transfer-Encoding": "chunked"}
        pieces = [body[i:i + 4096] for i in range(0, len(body), 4096)]
        wire = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    else:
        framing, wire = {"Content-Length": str(len(body))}, body
    with raw_connection(server) as sock:
        sock.sendall(request_head(server, method, path, token, {"Content-Type": content_type, **framing}))
        # The server may answer and hang up before taking it all; its answer is still there to be read.
        # (No half-close after it: uvicorn takes the end of the request stream for a client gone.)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(wire)
        status, headers, raw = read_response(sock)
    return status, headers, json.loads(raw) if raw else None


def assert_too_large(status: int, headers: dict[str, str], problem: Any) -> None:
    assert status == 413, (status, problem)
    assert headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "body_too_large" and problem["status"] == 413


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_push_above_the_limit_is_refused_413_and_nothing_is_stored(
        small_limit: LiveServer, store: Store, kader: Device, chunked: bool) -> None:
    batch = masalah_batch(60, "Irigasi subak rusak di banyak titik")
    body = envelope(kader, batch)
    assert len(body) > LIMIT
    seq = counter(store)

    assert_too_large(*send(small_limit, "POST", "/api/sync/push", kader.token, body, "application/json", chunked))
    assert stored(store, kader, batch) == (0, 0, 0)
    assert count(store, SyncClient, SyncClient.id == kader.client_id) == 0
    assert counter(store) == seq

    # The limit refuses only what is too large: the same mutations in smaller batches are all taken.
    for part in (batch[:20], batch[20:40], batch[40:]):
        body = envelope(kader, part)
        assert len(body) < LIMIT
        status, _, answer = send(small_limit, "POST", "/api/sync/push", kader.token, body, "application/json",
                                 chunked)
        assert status == 200, answer
        assert answer["results"] == first_results(part)
    assert stored(store, kader, batch) == (60, 60, 60)


def jpeg(size: int) -> bytes:
    head = b"\xff\xd8\xff\xe0" + uuid.uuid4().bytes  # unique, so no earlier test stored the same photo
    return head + b"foto daftar hadir musyawarah dusun " * (size // 34)


def attachment_files(server: LiveServer) -> list[Path]:
    """Everything under the server's attachments directory, temporary upload files included."""
    root = Path(server.log).parent / "attachments"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_photo_above_the_limit_is_refused_413_and_no_file_is_written(
        small_limit: LiveServer, kader: Device, chunked: bool) -> None:
    photo = jpeg(3 * LIMIT)  # far below the 3 MiB a photo may have, above this server's body limit
    name = hashlib.sha256(photo).hexdigest()
    before = attachment_files(small_limit)

    assert_too_large(*send(small_limit, "PUT", f"/api/attachments/{name}", kader.token, photo, "image/jpeg",
                           chunked))
    assert attachment_files(small_limit) == before
    with kader.http() as c:
        assert c.head(f"/api/attachments/{name}").status_code == 404

    small = jpeg(LIMIT // 2)
    status, _, answer = send(small_limit, "PUT", f"/api/attachments/{hashlib.sha256(small).hexdigest()}",
                             kader.token, small, "image/jpeg", chunked)
    assert status == 201, answer
    assert len(attachment_files(small_limit)) == len(before) + 1
