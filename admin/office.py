"""The admin's own endpoints, behind the same log-in and CSRF protection as piccolo-admin's API:

- the write half of the table API piccolo-admin's screens call (create, edit, delete), answered here
  through the sync engine (admin/writes.py) so that piccolo-admin's own write paths are never reached;
  ``PUT`` is refused (it would replace a row wholesale, skipping the rules);
- the foreign-key picker for accounts (``/api/tables/users/ids/``), without exposing the account list;
- the office pages and their JSON twins under ``/kantor/``: review queue (single and bulk, with a
  note), a record with its history and comments, the conflict queue, cadre accounts.

Pages are server-rendered (no scripts); their forms post the CSRF token as a form field, JSON callers
send the ``X-CSRFToken`` header as piccolo-admin's screens do. Every answer is within the admin's region.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import jinja2
import msgspec
from piccolo.apps.user.tables import BaseUser
from piccolo_api.csrf.middleware import CSRFMiddleware
from piccolo_api.session_auth.middleware import SessionsAuthBackend
from piccolo_api.session_auth.tables import SessionsBase
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.authentication import AuthenticationError
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp

from admin import kantor, writes
from admin.config import schema_texts
from admin.scope import SESSION_COOKIE, current_admin
from server.auth.principal import Principal
from server.db.session import Database
from server.errors import CATALOGUE, KaderError
from server.models import Conflict
from server.reviews.service import REVIEWABLE, set_review, split_review_comment
from sync.protocol import Choice, ResolveRequest
from sync.vocabulary import ReviewState

DATABASE_KEY = "kader.database"  # the gate puts the app's Database (server/db/session.py) in the ASGI scope
SECRET_KEY = "kader.secret"  # and the server's secret (KADER_SECRET_KEY), which signs flash messages
FLASH_COOKIE = "kantor_pesan"  # the outcome of a form, shown once on the page it returns to
SESSION_EXPIRY_INCREASE = timedelta(minutes=20)  # as piccolo-admin's own session middleware
JSON_TYPE = "application/json"

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)

REVIEW_LABELS = {"draf": "draf", "diajukan": "diajukan", "diverifikasi": "diverifikasi",
                 "perlu_perbaikan": "perlu perbaikan", "ditolak": "ditolak"}
TABLE_LABELS = {"pengkajian": "Pengkajian", "musyawarah": "Musyawarah", "usulan": "Usulan",
                "kehadiran": "Kehadiran", "komentar": "Komentar", "dusun": "Dusun", "kader": "Kader"}
OP_LABELS = {"create": "dibuat", "update": "diubah", "flag": "ditandai konflik", "delete": "dihapus",
             "restore": "dipulihkan", "resolve": "konflik diselesaikan", "review": "ditinjau"}
VIA_LABELS = {"sync": "HP kader", "admin": "admin", "resolve": "penyelesaian konflik"}


def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _when(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.astimezone(dt.UTC).strftime("%d-%m-%Y %H.%M UTC")


def _comment(isi: str) -> str:
    """A review's note kept as a comment, in words: "perlu perbaikan: …" rather than "[perlu_perbaikan] …"."""
    state, note = split_review_comment(isi)
    return f"{REVIEW_LABELS.get(state, state)}: {note}" if state else isi


_templates.filters.update(nilai=_value, waktu=_when, status=lambda s: REVIEW_LABELS.get(str(s), str(s)),
                          komentar=_comment,
                          tabel=lambda t: TABLE_LABELS.get(t, t), op=lambda o: OP_LABELS.get(o, o),
                          via=lambda v: VIA_LABELS.get(v, v))


# --- plumbing -------------------------------------------------------------------------------------


def _encode(value: Any) -> bytes:
    return msgspec.json.encode(value)


def json_response(value: Any, status: int = 200) -> Response:
    return Response(_encode(value), status_code=status, media_type=JSON_TYPE, headers={"Cache-Control": "no-store"})


def problem(exc: KaderError) -> Response:
    body = {"type": f"https://kader.invalid/errors/{exc.code}", "title": CATALOGUE[exc.code].title,
            "status": exc.status, "detail": exc.detail, "code": exc.code}
    return Response(_encode(body), status_code=exc.status, media_type="application/problem+json",
                    headers={**exc.headers, "Cache-Control": "no-store"})


def _wants_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip() == JSON_TYPE


async def _body(request: Request) -> dict[str, Any]:
    if _wants_json(request):
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            raise KaderError("bad_request", "Isi permintaan bukan JSON yang sah.") from None
        if not isinstance(data, dict):
            raise KaderError("bad_request", "Isi permintaan harus objek JSON.")
        return data
    # piccolo_api's CSRF middleware has read the form already (to find the token) and keeps it here.
    form = request.scope.get("form") or await request.form()
    out: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key == "csrftoken" or not isinstance(value, str):
            continue
        out.setdefault(key, []).append(value)
    return {k: v if k == "ids" else v[-1] for k, v in out.items()}


class Office:
    """The endpoints. The database is the app's own pool, handed over per request by the gate."""

    def __init__(self) -> None:
        self.routes = [
            Route("/api/tables/users/ids/", self.user_ids, methods=["GET"]),
            Route("/api/tables/{table}/", self.create_row, methods=["POST"]),
            Route("/api/tables/{table}/", self.refuse_bulk, methods=["DELETE", "PUT", "PATCH"]),
            Route("/api/tables/{table}/{row_id}/", self.change_row, methods=["PATCH", "DELETE"]),
            Route("/api/tables/{table}/{row_id}/", self.refuse_put, methods=["PUT"]),
            Route("/kantor/", self.home, methods=["GET"]),
            Route("/kantor/tinjauan/", self.review_page, methods=["GET"]),
            Route("/kantor/rekaman/", self.find_record, methods=["GET"]),
            Route("/kantor/rekaman/{table}/{record_id}/", self.record_page, methods=["GET"]),
            Route("/kantor/konflik/", self.conflicts_page, methods=["GET"]),
            Route("/kantor/akun/", self.accounts_page, methods=["GET"]),
            Route("/kantor/api/tinjauan/", self.review_list, methods=["GET"]),
            Route("/kantor/api/tinjauan/", self.review, methods=["POST"]),
            Route("/kantor/api/rekaman/{table}/{record_id}/", self.record, methods=["GET"]),
            Route("/kantor/api/rekaman/{table}/{record_id}/riwayat/", self.history, methods=["GET"]),
            Route("/kantor/api/konflik/", self.conflicts, methods=["GET"]),
            Route("/kantor/api/konflik/{conflict_id}/selesaikan/", self.resolve, methods=["POST"]),
            Route("/kantor/api/akun/", self.accounts, methods=["GET"]),
            Route("/kantor/api/akun/", self.create_account, methods=["POST"]),
            Route("/kantor/api/akun/{username}/kata-sandi/", self.reset_password, methods=["POST"]),
            Route("/kantor/api/akun/{username}/nonaktifkan/", self.deactivate, methods=["POST"]),
            Route("/kantor/api/akun/{username}/aktifkan/", self.activate, methods=["POST"]),
            Route("/kantor/api/akun/{username}/perangkat/cabut/", self.revoke, methods=["POST"]),
        ]

    # Each handler runs in one transaction: committed when it succeeds, rolled back when it raises.
    async def _run(self, request: Request, work: Callable[[AsyncSession, Principal], Awaitable[Any]]) -> Any:
        who = current_admin()
        database: Database = request.scope[DATABASE_KEY]
        try:
            async with database.transaction(request.method) as db:
                return await work(db, who)
        except IntegrityError as e:  # e.g. a bidang code that matches the pattern but is not in the list
            raise KaderError("invalid_fields", "Basis data menolaknya (rujukan tidak ada atau nilai ganda): "
                             f"{str(e.orig).splitlines()[0][:200]}") from None

    # --- table writes (piccolo-admin's screens) ---------------------------------------------------

    async def create_row(self, request: Request) -> Response:
        table = request.path_params["table"]
        body = await _body(request)
        saved = await self._run(request, lambda db, who: writes.create(db, who, table, body))
        # piccolo-api's answer shape: the new primary key.
        return json_response([{"id": saved.row["id"]}], 201)

    async def change_row(self, request: Request) -> Response:
        table = request.path_params["table"]
        record_id = _uuid(request.path_params["row_id"], table)
        if request.method == "DELETE":
            await self._run(request, lambda db, who: writes.delete(db, who, table, record_id))
            return Response(status_code=204)
        body = await _body(request)
        saved = await self._run(request, lambda db, who: writes.update(db, who, table, record_id, body))
        if saved.status == "conflict":
            fields = ", ".join(saved.conflict_fields)
            raise KaderError("conflict", f"Bidang {fields} sudah diubah orang lain sejak formulir ini dibuka; "
                             "nilai server tetap, nilai Anda disimpan di antrean konflik "
                             f"(konflik {saved.conflict_id}). Bidang lain tersimpan.")
        return json_response(saved.row)

    async def refuse_put(self, request: Request) -> Response:
        raise KaderError("method_not_allowed", "PUT tidak dipakai di admin Kader: ia mengganti seluruh baris dan "
                         "melewati aturan sinkronisasi. Kirim PATCH dengan bidang yang diubah.")

    async def refuse_bulk(self, request: Request) -> Response:
        raise KaderError("method_not_allowed", "Ubah atau hapus rekaman satu per satu (PATCH/DELETE pada id-nya).")

    async def user_ids(self, request: Request) -> Response:
        q = request.query_params
        try:
            limit, offset = int(q.get("limit") or 0) or None, int(q.get("offset") or 0)
        except ValueError:
            raise KaderError("invalid_fields", "limit dan offset harus bilangan bulat.") from None
        choices = await self._run(request, lambda db, who: kantor.user_choices(db, who, q.get("search"), limit, offset))
        return json_response(choices)

    # --- review -----------------------------------------------------------------------------------

    async def review_list(self, request: Request) -> Response:
        q = request.query_params
        items = await self._run(request, lambda db, who: kantor.review_list(
            db, who, q.get("tabel", "pengkajian"), q.get("status") or None, q.get("desa") or None))
        return json_response(items)

    async def review(self, request: Request) -> Response:
        body = await _body(request)
        table = str(body.get("table") or body.get("tabel") or "")
        ids = body.get("ids") or []
        if isinstance(ids, str):
            ids = [ids]
        try:
            state = ReviewState(str(body.get("state") or ""))
            record_ids = [uuid.UUID(str(i)) for i in ids]
        except ValueError:
            return await self._answer(request, KaderError("invalid_fields", "Pilih status dan rekaman yang sah."))
        if not record_ids:
            return await self._answer(request, KaderError("missing_fields", "Pilih paling sedikit satu rekaman."))
        note = str(body.get("note") or "")
        try:
            done = await self._run(request, lambda db, who: set_review(db, who, table, record_ids, state, note))
        except KaderError as e:
            return await self._answer(request, e)
        return await self._answer(request, done, f"{len(done)} rekaman {REVIEW_LABELS[state.value]}.")

    # --- records and history ----------------------------------------------------------------------

    async def record(self, request: Request) -> Response:
        table, record_id = self._record_key(request)
        return json_response(await self._run(request, lambda db, who: kantor.record(db, who, table, record_id)))

    async def history(self, request: Request) -> Response:
        table, record_id = self._record_key(request)
        return json_response(await self._run(request, lambda db, who: kantor.history(db, who, table, record_id)))

    @staticmethod
    def _record_key(request: Request) -> tuple[str, uuid.UUID]:
        table = request.path_params["table"]
        return table, _uuid(request.path_params["record_id"], table)

    # --- conflicts --------------------------------------------------------------------------------

    async def conflicts(self, request: Request) -> Response:
        desa = request.query_params.get("desa") or None
        return json_response(await self._run(request, lambda db, who: kantor.open_conflicts(db, who, desa)))

    async def resolve(self, request: Request) -> Response:
        conflict_id = _uuid(request.path_params["conflict_id"], "Konflik")
        body = await _body(request)
        try:
            resolution = _resolution(body) if not _wants_json(request) else msgspec.convert(body, ResolveRequest)
        except (msgspec.ValidationError, KaderError) as e:
            error = e if isinstance(e, KaderError) else KaderError("invalid_fields", str(e))
            return await self._answer(request, error)

        async def work(db: AsyncSession, who: Principal) -> Any:
            if not _wants_json(request):
                resolution.fields.update(await _typed_edits(db, who, conflict_id, body, resolution))
            return await kantor.resolve(db, who, conflict_id, resolution)

        try:
            done = await self._run(request, work)
        except KaderError as e:
            return await self._answer(request, e)
        return await self._answer(request, done, "Konflik diselesaikan.")

    # --- accounts ---------------------------------------------------------------------------------

    async def accounts(self, request: Request) -> Response:
        return json_response(await self._run(request, lambda db, who: kantor.accounts(db, who)))

    async def create_account(self, request: Request) -> Response:
        body = await _body(request)
        fields = {k: str(body.get(k) or "") for k in ("username", "password", "desa_code", "nama")}
        return await self._account_action(
            request, lambda db, who: kantor.create_account(db, who, **fields),
            f"Akun kader {fields['username']!r} dibuat.", status=201)

    async def reset_password(self, request: Request) -> Response:
        username, body = request.path_params["username"], await _body(request)
        password = str(body.get("password") or "")
        # Revoking her devices is the default; the page's box (a hidden "tidak" before it) or JSON false keeps them.
        revoke = str(body.get("cabut_perangkat", True)).lower() not in ("tidak", "false", "0")
        done = (" dan semua perangkatnya dicabut (harus masuk lagi dengan kata sandi baru)" if revoke
                else "; perangkatnya tetap masuk")
        return await self._account_action(
            request, lambda db, who: kantor.reset_password(db, who, username, password, revoke),
            f"Kata sandi {username!r} diganti{done}.")

    async def deactivate(self, request: Request) -> Response:
        username = request.path_params["username"]
        return await self._account_action(request, lambda db, who: kantor.set_active(db, who, username, False),
                                          f"Akun {username!r} dinonaktifkan dan perangkatnya dicabut.")

    async def activate(self, request: Request) -> Response:
        username = request.path_params["username"]
        return await self._account_action(request, lambda db, who: kantor.set_active(db, who, username, True),
                                          f"Akun {username!r} diaktifkan lagi.")

    async def revoke(self, request: Request) -> Response:
        username, body = request.path_params["username"], await _body(request)
        raw = body.get("device_id")
        try:
            device_id = int(raw) if raw not in (None, "") else None
        except (TypeError, ValueError):
            return await self._answer(request, KaderError("invalid_fields", "device_id harus bilangan bulat."))
        return await self._account_action(
            request, lambda db, who: kantor.revoke_devices(db, who, username, device_id), "Perangkat dicabut.")

    async def _account_action(self, request: Request, work: Callable[[AsyncSession, Principal], Awaitable[Any]],
                              message: str, status: int = 200) -> Response:
        try:
            result = await self._run(request, work)
        except KaderError as e:
            return await self._answer(request, e)
        return await self._answer(request, {"ok": True, "result": result}, message, status)

    # A JSON caller gets JSON; a page's form gets sent back to the page it came from, with the outcome.
    async def _answer(self, request: Request, result: Any, message: str = "", status: int = 200) -> Response:
        if _wants_json(request):
            if isinstance(result, KaderError):
                return problem(result)
            return json_response(result, status)
        # The outcome goes in a flash cookie signed for this session, never in the address: a link can
        # put no words on the office's pages.
        response = RedirectResponse(_back(request), status_code=303)
        flash = {"galat": result.detail} if isinstance(result, KaderError) else {"pesan": message}
        value = _sign_flash(request, flash)
        if value:
            response.set_cookie(FLASH_COOKIE, value, max_age=300, path=_flash_path(request), httponly=True,
                                samesite="strict")
        return response

    # --- pages ------------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        return RedirectResponse(f"{request.scope.get('root_path', '')}/kantor/tinjauan/", status_code=303)

    async def review_page(self, request: Request) -> Response:
        q = request.query_params
        table = q.get("tabel") if q.get("tabel") in REVIEWABLE else "pengkajian"
        state = q.get("status", "diajukan")
        desa = q.get("desa") or None

        async def work(db: AsyncSession, who: Principal) -> dict[str, Any]:
            return {"items": await kantor.review_list(db, who, table, state or None, desa),
                    "desa_options": await kantor.desa_options(db, who)}

        data = await self._run(request, work)
        return self._page(request, "tinjauan.html", "Tinjauan kiriman kader", table=table, state=state, desa=desa,
                          tables=REVIEWABLE, states=[s.value for s in kantor.REVIEW_STATES],
                          all_tables=TABLE_LABELS, **data)

    async def find_record(self, request: Request) -> Response:
        """The lookup form on the review page: a table and an id (as copied from an admin list)."""
        table = request.query_params.get("tabel", "")
        record_id = _uuid(request.query_params.get("id", "").strip(), "Rekaman")
        if table not in TABLE_LABELS:
            raise KaderError("not_found", f"Tabel {table!r} tidak dikenal.")
        return RedirectResponse(f"{request.scope.get('root_path', '')}/kantor/rekaman/{table}/{record_id}/",
                                status_code=303)

    async def record_page(self, request: Request) -> Response:
        table, record_id = self._record_key(request)
        view = await self._run(request, lambda db, who: kantor.record(db, who, table, record_id))
        return self._page(request, "rekaman.html", f"{TABLE_LABELS.get(table, table)}: {view.summary or view.id}",
                          rec=view, labels=schema_texts(table).get("columns", {}))

    async def conflicts_page(self, request: Request) -> Response:
        desa = request.query_params.get("desa") or None

        async def work(db: AsyncSession, who: Principal) -> dict[str, Any]:
            return {"conflicts": await kantor.open_conflicts(db, who, desa),
                    "desa_options": await kantor.desa_options(db, who)}

        data = await self._run(request, work)
        return self._page(request, "konflik.html", "Antrean konflik", desa=desa, **data)

    async def accounts_page(self, request: Request) -> Response:
        async def work(db: AsyncSession, who: Principal) -> dict[str, Any]:
            return {"accounts": await kantor.accounts(db, who), "desa_options": await kantor.desa_options(db, who)}

        data = await self._run(request, work)
        return self._page(request, "akun.html", "Akun kader", **data)

    def _page(self, request: Request, template: str, title: str, **context: Any) -> HTMLResponse:
        flash = _read_flash(request)
        html = _templates.get_template(template).render(
            title=title, root=request.scope.get("root_path", ""), who=current_admin(),
            csrf=request.scope.get("csrftoken") or request.cookies.get("csrftoken", ""),
            pesan=flash.get("pesan", ""), galat=flash.get("galat", ""), path=request.url.path, **context)
        response = html_response(html)
        if FLASH_COOKIE in request.cookies:
            response.delete_cookie(FLASH_COOKIE, path=_flash_path(request))  # shown once
        return response


def html_response(html: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers={
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                   "frame-ancestors 'self'"})


def _flash_path(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}/kantor/"


def _flash_mac(request: Request, payload: bytes) -> str | None:
    """HMAC of a flash message with the server's secret, bound to this admin session: a cookie that the
    server did not set for this very session is never shown."""
    session = request.cookies.get(SESSION_COOKIE)
    secret = request.scope.get(SECRET_KEY)
    if not session or not secret:
        return None
    return hmac.new(secret, session.encode() + b"|" + payload, hashlib.sha256).hexdigest()


def _sign_flash(request: Request, flash: dict[str, str]) -> str | None:
    flash = {k: v[:1000] for k, v in flash.items()}  # a cookie holds about 4 KB
    payload = base64.urlsafe_b64encode(json.dumps(flash, ensure_ascii=False).encode()).rstrip(b"=")
    mac = _flash_mac(request, payload)
    return f"{payload.decode()}.{mac}" if mac else None


def _read_flash(request: Request) -> dict[str, str]:
    payload, _, mac = request.cookies.get(FLASH_COOKIE, "").partition(".")
    expected = _flash_mac(request, payload.encode())
    if not payload or expected is None or not hmac.compare_digest(mac, expected):
        return {}
    try:
        flash = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return {}
    return {k: str(v) for k, v in flash.items() if k in ("pesan", "galat")} if isinstance(flash, dict) else {}


def _uuid(raw: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise KaderError("not_found", f"{what} {raw!r} tidak ditemukan.") from None


# Pages a form may return to (never an address from the request: no open redirect).
_PAGES = ("/kantor/tinjauan/", "/kantor/konflik/", "/kantor/akun/", "/kantor/rekaman/")


def _back(request: Request) -> str:
    root = request.scope.get("root_path", "")
    wanted = str(request.query_params.get("kembali") or "")
    if wanted.startswith(_PAGES) and all(c.isalnum() or c in "/-_." for c in wanted) and ".." not in wanted:
        return root + wanted
    return root + "/kantor/tinjauan/"


def _resolution(form: dict[str, Any]) -> ResolveRequest:
    """A resolution from the conflict page's form: ``pick:<field>`` = mine | theirs | edited (the typed
    value in ``value:<field>`` is converted in ``_typed_edits``), or ``action`` = keep | delete."""
    fields = {k.removeprefix("pick:"): {"pick": v} for k, v in form.items() if k.startswith("pick:")}
    action = form.get("action") or None
    try:
        return msgspec.convert({"fields": fields, "action": action}, ResolveRequest)
    except msgspec.ValidationError as e:
        raise KaderError("invalid_fields", str(e)) from None


async def _typed_edits(db: AsyncSession, who: Principal, conflict_id: uuid.UUID, form: dict[str, Any],
                       resolution: ResolveRequest) -> dict[str, Choice]:
    """The values typed on the conflict page for ``edited`` picks, converted to the field's type."""
    edited = {name: form.get(f"value:{name}", "") for name, c in resolution.fields.items() if c.pick == "edited"}
    conflict = await db.get(Conflict, conflict_id) if edited else None
    if conflict is None or not who.covers(conflict.desa_code):
        return {}  # nothing typed; or resolve() answers "not found"
    values = writes.form_values(conflict.table_name, edited)
    return {name: Choice(pick="edited", value=values.get(name)) for name in edited}


# --- the app --------------------------------------------------------------------------------------


def _on_auth_error(conn: HTTPConnection, exc: AuthenticationError) -> Response:
    if conn.scope.get("method") == "GET" and "/kantor/" in conn.url.path and "/kantor/api/" not in conn.url.path:
        return RedirectResponse(f"{conn.scope.get('root_path', '')}/", status_code=303)  # to the log-in page
    return problem(KaderError("auth_required", "Masuk dulu lewat halaman admin."))


class _Errors:
    """KaderError as problem details (JSON) or as a page, whichever the caller reads."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = False

        async def tracking_send(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except KaderError as exc:
            if started:
                raise
            path = scope.get("path", "")
            if scope.get("method") == "GET" and "/kantor/" in path and "/kantor/api/" not in path:
                html = _templates.get_template("galat.html").render(
                    title=CATALOGUE[exc.code].title, detail=exc.detail, root=scope.get("root_path", ""))
                response: Response = html_response(html, exc.status)
            else:
                response = problem(exc)
            await response(scope, receive, send)


def office_app(auth_table: type[BaseUser], session_table: type[SessionsBase], allowed_hosts: list[str]) -> ASGIApp:
    """The endpoints wrapped as piccolo-admin wraps its API: CSRF (double-submit cookie, Origin/Referer on
    HTTPS), then the admin session (active admins only), then Kader's error answers."""
    app: ASGIApp = _Errors(Router(routes=Office().routes, redirect_slashes=False))
    app = AuthenticationMiddleware(
        app, backend=SessionsAuthBackend(auth_table=auth_table, session_table=session_table, admin_only=True,
                                         increase_expiry=SESSION_EXPIRY_INCREASE),
        on_error=_on_auth_error)
    return CSRFMiddleware(app, allowed_hosts=allowed_hosts, allow_form_param=True)
