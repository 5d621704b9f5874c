"""Helpers shared by the fault tests (the push/count helpers are in tests/support/pushes.py)."""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.engine import make_url

from server.models import History, Pengkajian, ProcessedMutation
from tests.conftest import LiveServer, Store
from tests.support.pushes import MASALAH, count
from tests.syncing import Device, mutation


class HeldLock:
    """PostgreSQL: an open transaction of the test's own that ran ``statement`` (taking a lock) and holds
    it until ``release``. Release tolerates the connection being gone (the database was restarted)."""

    def __init__(self, db_url: str, statement: str) -> None:
        import asyncpg

        u = make_url(db_url)
        self._loop = asyncio.new_event_loop()
        self._conn = self._loop.run_until_complete(
            asyncpg.connect(host=u.host, port=u.port, user=u.username, database=u.database))
        self._loop.run_until_complete(self._conn.execute(f"BEGIN; {statement}"))

    def release(self) -> None:
        try:
            if not self._conn.is_closed():
                self._loop.run_until_complete(self._conn.execute("ROLLBACK"))
                self._loop.run_until_complete(self._conn.close())
        except OSError:
            pass  # the database went away under it, which rolled it back anyway
        except Exception as e:  # asyncpg's "connection was closed" errors are not OSErrors
            if "closed" not in str(e).lower() and "terminat" not in str(e).lower():
                raise
        finally:
            self._conn.terminate()
            self._loop.close()

    def __enter__(self) -> HeldLock:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


COUNTER_ROW = "SELECT value FROM sync_counter WHERE id = 1 FOR UPDATE"


def backends_waiting(store: Store, query_like: str) -> list[int]:
    """Backends of this database blocked on a lock while running a statement matching ``query_like``."""
    return [r[0] for r in store.rows(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
        "AND query ILIKE :q", q=query_like)]


def masalah_batch(n: int, what: str) -> list[dict[str, Any]]:
    return [mutation("create", "pengkajian", uuid.uuid4(), {**MASALAH, "uraian": f"{what} {i}"}) for i in range(n)]


def record_ids(batch: list[dict[str, Any]]) -> list[uuid.UUID]:
    return [uuid.UUID(m["record_id"]) for m in batch]


def stored(store: Store, device: Device, batch: list[dict[str, Any]]) -> tuple[int, int, int]:
    """(records, history rows, processed mutations) of ``batch``: (0, 0, 0) or (n, n, n), never between."""
    ids = record_ids(batch)
    return (count(store, Pengkajian, Pengkajian.id.in_(ids)), count(store, History, History.record_id.in_(ids)),
            count(store, ProcessedMutation, ProcessedMutation.client_id == device.client_id))


def first_results(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-mutation answers a push of fresh creates gets the first time round (and on every retry)."""
    return [{"mutation_id": m["mutation_id"], "record_id": m["record_id"], "status": "applied", "version": 1}
            for m in batch]


def is_retryable_problem(r: httpx.Response) -> bool:
    return (r.status_code == 503 and r.headers.get("content-type", "").startswith("application/problem+json")
            and r.json()["code"] == "database_unavailable" and int(r.headers.get("retry-after", "0")) > 0)


def raw_connection(server: LiveServer) -> socket.socket:
    url = urlsplit(server.url)
    return socket.create_connection((url.hostname, url.port), timeout=10)


def request_head(server: LiveServer, method: str, path: str, token: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {urlsplit(server.url).netloc}", f"Authorization: Bearer {token}",
             *(f"{k}: {v}" for k, v in headers.items()), "Connection: close", "", ""]
    return "\r\n".join(lines).encode()


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read a whole HTTP/1.1 answer (``Connection: close``) from a raw socket: status, headers, body."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
    if headers.get("transfer-encoding") == "chunked":
        body = dechunk(body)
    return int(status_line.split()[1]), headers, body


def dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return out
