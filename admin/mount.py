"""Mount point of the admin in the Litestar app: piccolo-admin at /admin/, built once per app, behind the
gate (admin/gate.py) that scopes every request to the admin's region and sends writes through the sync
engine (admin/office.py, admin/writes.py)."""

from __future__ import annotations

from litestar import asgi
from litestar.types import ControllerRouterHandler, Receive, Scope, Send
from piccolo_admin.endpoints import create_admin
from piccolo_api.rate_limiting.middleware import InMemoryLimitProvider

from admin.auth import auth_tables
from admin.config import HIDDEN_TABLES, SHOWN, WRITABLE_TABLES, schema_texts, table_configs
from admin.dashboard import PATH as DASHBOARD_PATH
from admin.dashboard import SIDEBAR_LABEL, dashboard_router
from admin.gate import AdminGate
from admin.office import office_app
from admin.tables import derive_tables, piccolo_engine
from admin.translation import DEFAULT_LANGUAGE, TRANSLATIONS
from server.settings import Settings

__all__ = ["HIDDEN_TABLES", "MOUNT", "admin_handlers"]

MOUNT = "/admin"
SITE_NAME = "Kader — Admin Kecamatan"
# Office pages (admin/office.py), relative to /admin/ where piccolo-admin's page lives.
OFFICE_LINKS = {"Tinjauan kiriman": "kantor/tinjauan/", "Antrean konflik": "kantor/konflik/",
                "Akun kader": "kantor/akun/"}
# piccolo_api's CSRF middleware checks Origin/Referer host names (never ports) only on HTTPS requests.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def admin_handlers(settings: Settings) -> list[ControllerRouterHandler]:
    """The admin's handlers for this app's database: tables and ``create_admin`` are made here, once."""
    engine = piccolo_engine(settings.database_url)
    tables = derive_tables(engine)
    user_table, session_table = auth_tables(engine, settings.login_max_failures, settings.login_lock_seconds_max)
    # Host names of the deployment (KADER_PUBLIC_URL, KADER_ALLOWED_HOSTS); loopback works on any port.
    allowed_hosts = [*LOCAL_HOSTS, *settings.admin_allowed_hosts]
    piccolo = create_admin(
        table_configs(tables),
        auth_table=user_table,
        session_table=session_table,
        site_name=SITE_NAME,
        # Otherwise every table a foreign key points at would be listed, users included.
        auto_include_related=False,
        allowed_hosts=allowed_hosts,
        production=settings.served_over_https,  # the session cookie is then Secure
        default_language_code=DEFAULT_LANGUAGE,
        translations=TRANSLATIONS,
        sidebar_links={**OFFICE_LINKS, SIDEBAR_LABEL: f"{DASHBOARD_PATH}/"},  # dashboard: admin/dashboard.py
        # Per address, on top of the per-account lock (admin/auth.py); piccolo-admin's default blocks an
        # address for good (until a restart) after 20 requests in 5 minutes — a whole office behind one
        # NAT address would be locked out. Here: 100 per 5 minutes, blocked for 5 minutes.
        rate_limit_provider=InMemoryLimitProvider(timespan=300, limit=100, block_duration=300),
    )
    # The database sessions of the writes are the app's own (app.state.database, see admin/gate.py).
    admin_app = AdminGate(piccolo, office_app(user_table, session_table, allowed_hosts), tables=SHOWN,
                          writable=WRITABLE_TABLES, schema_texts=schema_texts, table_classes=tables)

    @asgi(MOUNT, is_mount=True, copy_scope=True)
    async def admin(scope: Scope, receive: Receive, send: Send) -> None:
        # Litestar serves /admin and /admin/ alike; the page's relative asset URLs need the slash.
        if scope["type"] == "http" and _requested_path(scope) == MOUNT:
            await _redirect(scope, send, f"{scope.get('root_path', '')}{MOUNT}/")
            return
        # Litestar hands over the path below the mount; ASGI wants the full path plus root_path, so that
        # URLs piccolo-admin builds (request.url, redirects) keep the /admin prefix.
        root_path = f"{scope.get('root_path', '')}{MOUNT}"
        scope["root_path"] = root_path
        scope["path"] = root_path + scope["path"]
        await admin_app(scope, receive, send)

    return [admin, dashboard_router()]


def _requested_path(scope: Scope) -> str:
    """The path as the client sent it, below any root_path (Litestar has replaced ``scope["path"]``)."""
    raw = scope.get("raw_path") or b""
    path = raw.split(b"?", 1)[0].decode("latin-1")
    root_path = scope.get("root_path", "")
    return path[len(root_path):] if root_path and path.startswith(root_path) else path


async def _redirect(scope: Scope, send: Send, location: str) -> None:
    query = scope.get("query_string", b"")
    target = location.encode("latin-1") + (b"?" + query if query else b"")
    await send({"type": "http.response.start", "status": 308,
                "headers": [(b"location", target), (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
