"""The app factory: the API under /api, OpenAPI at /schema, the admin at /admin/, the PWA at /."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.static_files import create_static_files_router

from admin.mount import admin_handlers
from server.appshell import check as check_app_shell
from server.appshell import serve_shell, serve_worker
from server.attachments.routes import ROUTES as ATTACHMENT_ROUTES
from server.auth.middleware import PUBLIC_PATHS, DeviceTokenMiddleware
from server.auth.passwords import hasher
from server.auth.routes import AuthController
from server.db.session import Database
from server.errors import EXCEPTION_HANDLERS
from server.exports.routes import ExportController, get_dashboard
from server.headers import SecurityHeadersMiddleware
from server.health.routes import health, live, ready
from server.http import provide_db
from server.openapi_document import KaderOpenAPIConfig
from server.ratelimit import STORE, rate_limit_middleware, rate_limit_store
from server.requestlog import RequestLogMiddleware, configure_logging
from server.reviews.routes import set_review
from server.settings import Settings
from server.syncapi.routes import SyncController
from server.wilayah.routes import DesaController

VERSION = "0.1.0"


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    limits_store = rate_limit_store(settings)
    check_app_shell(settings.pwa_dir)
    hasher()  # an unknown KADER_PASSWORD_HASH_COST stops the start

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        app.state.database = Database.connect(settings)
        try:
            yield
        finally:
            await app.state.database.engine.dispose()

    api = Router(
        path="/api",
        route_handlers=[health, live, ready, AuthController, DesaController, SyncController, set_review,
                        *ATTACHMENT_ROUTES, ExportController, get_dashboard],
        dependencies={"db": Provide(provide_db)},
        # Limits first: a flood is refused before it costs a token check or an argon2 hash.
        middleware=[*rate_limit_middleware(settings), DefineMiddleware(DeviceTokenMiddleware, exclude=PUBLIC_PATHS)],
    )
    pwa = create_static_files_router(path="/", directories=[settings.pwa_dir], html_mode=True,
                                     name="pwa", include_in_schema=False,
                                     # the service worker serves these offline; the network copy is
                                     # always revalidated, so an update is never hidden by a stale cache
                                     cache_control=CacheControlHeader(no_cache=True))
    app = Litestar(
        route_handlers=[api, *admin_handlers(settings), serve_shell, serve_worker, pwa],
        lifespan=[lifespan],
        state=State({"settings": settings, "rate_limit_store": limits_store}),
        stores={STORE: limits_store},
        logging_config=None,  # server.requestlog configures logging
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024),
        # The description as data only (/schema and /schema/openapi.json): a viewer page would run
        # scripts on the origin of the admin and the app; any OpenAPI viewer can open the JSON instead.
        openapi_config=KaderOpenAPIConfig(title="Kader", version=VERSION, path="/schema",
                                          render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])]),
        debug=False,
    )
    # Around Litestar's whole handler, not as route middleware: so the request line and the security
    # headers also cover answers no route gives (404 of an unknown /api/ path, 405).
    app.asgi_handler = RequestLogMiddleware(SecurityHeadersMiddleware(app.asgi_handler,
                                                                      https=settings.served_over_https))
    return app
