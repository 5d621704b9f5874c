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
from urllib.parse import parse_qsl

from piccolo.table import Table
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from admin.office import DATABASE_KEY, SECRET_KEY
from admin.queries import TRUE, BadQuery, check_ids, check_read
from admin.scope import ADMIN, DENIED, SESSION_COOKIE, admin_from_session
from server.db.session import Database
from server.errors import CATALOGUE
from server.exports.render import neutralise

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
                 schema_texts: Callable[[str], Mapping[str, Any]],
                 table_classes: Mapping[str, type[Table]] | None = None) -> None:
        self.apps = {PICCOLO: piccolo, OFFICE: office}
        self.tables, self.writable = frozenset(tables), frozenset(writable)
        self.schema_texts = schema_texts
        self.table_classes = dict(table_classes or {})  # for checking reads (admin/queries.py)

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
            if path.rstrip("/") == "/public/login" and scope["method"] == "POST":
                body = await _whole_body(receive)
                if (wrong := _login_body_error(scope, body)) is not None:
                    await _problem(send, 400, "validation_failed", wrong)
                    return
                receive = _replay(body)
            if who is not None and (wrong := self._read_error(scope, path)) is not None:
                # Before any query runs: piccolo-admin would answer these with a 500 (admin/queries.py).
                await _problem(send, 400, "validation_failed", wrong)
                return
            scope[DATABASE_KEY] = database
            scope[SECRET_KEY] = _app(scope).state.settings.secret_key.encode()
            table = _schema_of(path)
            if route.target == PICCOLO and table and scope["method"] == "GET":
                send = _rewrite_schema(send, self.schema_texts(table))
            if route.target == PICCOLO and scope["method"] == "GET" and _is_csv_export(scope, path):
                send = _rewrite_json(send, _neutralise_rows)
            await self.apps[route.target](scope, receive, send)
        finally:
            ADMIN.reset(token)


    def _read_error(self, scope: Scope, path: str) -> str | None:
        """What is wrong with a request's path or query, if the database could not take it."""
        params = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True,
                           encoding="utf-8", errors="replace")
        parts = path.strip("/").split("/")
        try:
            if "\x00" in path:
                raise BadQuery("Alamat tidak boleh memuat karakter NUL.")
            if scope["method"] in READ and parts[:2] == ["api", "tables"] and len(parts) > 2:
                if parts[2:] == ["users", "ids"]:
                    check_ids(params)
                elif parts[2] in self.table_classes:
                    check_read(self.table_classes[parts[2]], parts[3:], params)
            elif any("\x00" in k or "\x00" in v for k, v in params):
                raise BadQuery("Parameter tidak boleh memuat karakter NUL.")
        except BadQuery as e:
            return str(e)
        return None


def _login_body_error(scope: Scope, body: bytes) -> str | None:
    """piccolo_api's log-in takes ``username`` and ``password`` from JSON as they come: anything but text
    would fail deep inside it (a 500)."""
    content_type = dict(scope.get("headers", [])).get(b"content-type", b"").split(b";")[0].strip()
    if content_type != b"application/json":
        return None  # a form's fields are always text
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return "Isi permintaan bukan JSON yang sah."
    if not isinstance(data, dict):
        return "Isi permintaan harus objek JSON."
    wrong = [k for k in ("username", "password") if k in data and not isinstance(data[k], str)]
    return f"{' dan '.join(wrong)} harus berupa teks." if wrong else None


MAX_LOGIN_BODY = 64 * 1024


async def _whole_body(receive: Receive) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_LOGIN_BODY or not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    """A ``receive`` that hands the app the body the gate has already read, then waits as ASGI does."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _problem(send: Send, status: int, code: str, detail: str) -> None:
    body = json.dumps({"type": f"https://kader.invalid/errors/{code}", "title": CATALOGUE[code].title,
                       "status": status, "detail": detail, "code": code}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


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
    return _rewrite_json(send, lambda schema: apply_schema_texts(schema, texts))


def _is_csv_export(scope: Scope, path: str) -> bool:
    """piccolo-admin's "Export CSV" reads the list API as no screen does: 1000 rows a page, readable
    (admin_ui CSVModal.vue; the list screen asks for 5–100)."""
    if not re.fullmatch(r"/api/tables/[A-Za-z0-9_]+/?", path):
        return False
    params = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    return params.get("__page_size") == "1000" and params.get("__readable") in TRUE


def _neutralise_rows(page: Any) -> Any:
    """The browser writes each cell as it comes (doubling quotes only): text a spreadsheet would run as
    a formula is neutralised here by the server exports' own rule."""
    def cell(value: Any) -> Any:
        if isinstance(value, str):
            return neutralise(value)
        return [cell(v) for v in value] if isinstance(value, list) else value

    if isinstance(page, dict) and isinstance(page.get("rows"), list):
        page["rows"] = [{k: cell(v) for k, v in row.items()} if isinstance(row, dict) else row
                        for row in page["rows"]]
    return page


def _rewrite_json(send: Send, change: Callable[[Any], Any]) -> Send:
    """The JSON body of a successful answer, changed by ``change`` (the body is read whole first)."""
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
                body = json.dumps(change(json.loads(body))).encode()
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
