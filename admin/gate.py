"""The one door into the admin: every request below /admin/ passes here, and only here.

For each request the gate
1. resolves the admin from the session cookie (admin/scope.py) and sets :data:`admin.scope.ADMIN` for the
   whole request — the derived Piccolo tables read it to scope every query (default: nothing);
2. routes by an explicit list of what may be asked (default deny): piccolo-admin's page, assets,
   log-in, its read API on the tables shown; the table writes, the account picker and the office pages
   to the office app (admin/office.py), which writes through the sync engine (and refuses ``PUT`` with
   the reason). Anything not listed — piccolo-admin's OpenAPI docs, media upload, bulk delete, a table
   not shown, writes on a read-only table, an unknown path — is answered 404 or 405 here, before any
   application code runs;
3. rewrites piccolo-admin's table schemas with the Indonesian titles and help texts (admin/config.py).

Both apps behind it keep their own session and CSRF middleware (piccolo_api's), so the gate adds
checks, it never replaces one.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from admin.office import DATABASE_KEY, SECRET_KEY
from admin.scope import ADMIN, DENIED, SESSION_COOKIE, admin_from_session
from server.db.session import Database

PICCOLO, OFFICE = "piccolo", "office"
READ = frozenset({"GET", "HEAD"})
# piccolo-admin's read endpoints of one table, below /api/tables/<table>/.
TABLE_READS = frozenset({"", "schema", "ids", "count", "references", "new"})
PUBLIC = {"login": frozenset({"GET", "POST"}), "logout": frozenset({"POST"}), "meta": READ, "translations": READ}
API = {"tables": READ, "links": READ, "forms": READ, "user": READ, "change-password": frozenset({"POST"})}
_SEGMENT = re.compile(r"^[A-Za-z0-9_.\-]{1,80}$")


class Route:
    """Where a request goes: an app, or an error answered by the gate itself."""

    def __init__(self, target: str | None, status: int = 200, detail: str = "") -> None:
        self.target, self.status, self.detail = target, status, detail


def _deny(status: int = 404, detail: str = "Tidak ditemukan.") -> Route:
    return Route(None, status, detail)


def classify(method: str, path: str, tables: Collection[str], writable: Collection[str]) -> Route:
    """Which app may answer ``method path`` (path below the mount, e.g. ``/api/tables/usulan/``)."""
    parts = path.split("/")[1:]  # "/api/tables/x/" -> ["api", "tables", "x", ""]
    if parts and parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]  # one trailing slash is the norm
    if "" in parts[:-1] or ".." in parts or "." in parts:
        return _deny()
    if parts and parts[0] == "kantor":
        return Route(OFFICE)  # the office's own routes (usernames may hold any character but "/")
    if any(not _SEGMENT.match(p) for p in parts if p != ""):
        return _deny()
    if parts in ([], [""]):
        return Route(PICCOLO) if method in READ else _deny(405, "Metode tidak diizinkan.")
    head, rest = parts[0], parts[1:]
    if head == "assets":
        return Route(PICCOLO) if method in READ and len(rest) == 1 else _deny()
    if head == "public":
        allowed = PUBLIC.get(rest[0]) if rest and (len(rest) == 1 or rest[0] == "translations" and len(rest) == 2) \
            else None
        if allowed is None:
            return _deny()
        return Route(PICCOLO) if method in allowed else _deny(405, "Metode tidak diizinkan.")
    if head != "api" or not rest:
        return _deny()
    if rest[0] == "tables" and len(rest) >= 2 and rest[1] != "grouped":
        return _table(method, rest[1], rest[2:], tables, writable)
    allowed = API.get(rest[0])
    if allowed is None or len(rest) > 2 or (len(rest) == 2 and (rest[0], rest[1]) not in {
            ("tables", "grouped"), ("forms", "grouped")}):
        return _deny()
    return Route(PICCOLO) if method in allowed else _deny(405, "Metode tidak diizinkan.")


def _table(method: str, table: str, rest: list[str], tables: Collection[str], writable: Collection[str]) -> Route:
    if table == "users" and rest == ["ids"] and method in READ:
        return Route(OFFICE)  # author pickers; the account list itself is not shown
    if table not in tables or len(rest) > 1:
        return _deny()
    if method in READ:
        return Route(PICCOLO)  # the list, one of TABLE_READS, or one row by id
    if rest and rest[0] in TABLE_READS - {""}:
        return _deny(405, "Metode tidak diizinkan.")
    if method == "PUT" or (method in ("POST", "PATCH", "DELETE") and table in writable):
        return Route(OFFICE)  # answered through the sync engine (PUT: refused there with the reason)
    if method in ("POST", "PATCH", "DELETE"):
        return _deny(405, f"Tabel {table} hanya bisa dibaca di admin.")
    return _deny(405, "Metode tidak diizinkan.")


class AdminGate:
    def __init__(self, piccolo: ASGIApp, office: ASGIApp, tables: Collection[str], writable: Collection[str],
                 schema_texts: Callable[[str], Mapping[str, Any]]) -> None:
        self.apps = {PICCOLO: piccolo, OFFICE: office}
        self.tables, self.writable = frozenset(tables), frozenset(writable)
        self.schema_texts = schema_texts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no websockets in the admin
        database = _database(scope)
        path = scope["path"][len(scope.get("root_path", "")):]
        route = classify(scope["method"], path, self.tables, self.writable)
        who = None
        if route.target is not None and path.startswith(("/api/", "/kantor/")):
            async with database.read_sessions() as db:
                who = await admin_from_session(db, HTTPConnection(scope).cookies.get(SESSION_COOKIE))
        token = ADMIN.set(who or DENIED)
        try:
            if route.target is None:
                await _plain(send, route.status, route.detail)
                return
            scope[DATABASE_KEY] = database
            scope[SECRET_KEY] = _app(scope).state.settings.secret_key.encode()
            table = _schema_of(path)
            if route.target == PICCOLO and table and scope["method"] == "GET":
                send = _rewrite_schema(send, self.schema_texts(table))
            await self.apps[route.target](scope, receive, send)
        finally:
            ADMIN.reset(token)


def _app(scope: Scope) -> Any:
    return scope.get("litestar_app") or scope.get("app")


def _database(scope: Scope) -> Database:
    """The app's own database pool (made and disposed by the app's lifespan, server/app.py): the admin
    opens no pool of its own, so there is nothing of its own to dispose."""
    return _app(scope).state.database  # type: ignore[no-any-return]


def _schema_of(path: str) -> str | None:
    m = re.fullmatch(r"/api/tables/([A-Za-z0-9_]+)/schema/?", path)
    return m.group(1) if m else None


def _rewrite_schema(send: Send, texts: Mapping[str, Any]) -> Send:
    """Put Indonesian titles / help texts into piccolo-admin's JSON schema of a table."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        if start.get("status") == 200:
            with contextlib.suppress(ValueError):
                body = json.dumps(apply_schema_texts(json.loads(body), texts)).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return wrapped


def apply_schema_texts(schema: dict[str, Any], texts: Mapping[str, Any]) -> dict[str, Any]:
    if texts.get("help"):
        schema.setdefault("extra", {})["help_text"] = texts["help"]
    for name, prop in schema.get("properties", {}).items():
        label, help_text = texts.get("columns", {}).get(name, (None, None))
        if label:
            prop["title"] = label
        if help_text:
            prop.setdefault("extra", {})["help_text"] = help_text
    return schema


async def _plain(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
