"""Mount point of the admin in the Litestar app: piccolo-admin at /admin/, built once per app."""

from __future__ import annotations

from litestar import asgi
from litestar.types import ControllerRouterHandler, Receive, Scope, Send
from piccolo_admin.endpoints import create_admin

from admin.auth import auth_tables
from admin.tables import derive_tables, piccolo_engine
from server.settings import Settings

MOUNT = "/admin"
SITE_NAME = "Kader — Admin Kecamatan"
# Accounts, device tokens and sessions are managed elsewhere for now (account management comes later).
HIDDEN_TABLES = frozenset({"users", "devices", "admin_sessions"})
# piccolo_api's CSRF middleware checks Origin/Referer host names (never ports) only on HTTPS requests.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def admin_handlers(settings: Settings) -> list[ControllerRouterHandler]:
    """The admin's handlers for this app's database: tables and ``create_admin`` are made here, once."""
    engine = piccolo_engine(settings.database_url)
    tables = derive_tables(engine)
    user_table, session_table = auth_tables(engine)
    admin_app = create_admin(
        [t for name, t in tables.items() if name not in HIDDEN_TABLES],
        auth_table=user_table,
        session_table=session_table,
        site_name=SITE_NAME,
        # Otherwise every table a foreign key points at would be listed, users included.
        auto_include_related=False,
        # Host names of the deployment (for HTTPS) once Settings has them; loopback works on any port.
        allowed_hosts=[*LOCAL_HOSTS, *getattr(settings, "admin_allowed_hosts", ())],
    )

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
        await admin_app(scope, receive, send)  # type: ignore[arg-type]

    return [admin]


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
