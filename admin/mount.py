"""Mount point of the admin in the Litestar app (filled in by the admin module)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from server.settings import Settings


def admin_handlers(settings: Settings) -> list[ControllerRouterHandler]:
    return []
