"""Default deny: every /api/ route except health and log-in answers 401 without a device token."""

from __future__ import annotations

import re

from server.app import create_app
from tests.conftest import LiveServer

PUBLIC = {("GET", "/api/health"), ("GET", "/api/health/live"), ("GET", "/api/health/ready"),
          ("POST", "/api/auth/login")}


def api_routes() -> list[tuple[str, str]]:
    app = create_app()
    routes = []
    for route in app.routes:
        if not route.path.startswith("/api/"):
            continue
        for method in getattr(route, "methods", ()):
            if method not in ("HEAD", "OPTIONS"):
                routes.append((method, route.path))
    return sorted(routes)


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+):(\w+)\}", lambda m: {"uuid": "00000000-0000-4000-8000-000000000000"}.get(
        m.group(2), "51.08.01.2009" if "code" in m.group(1) else "pengkajian"), path)


def test_the_api_has_the_routes_this_test_expects_to_cover() -> None:
    paths = {p for _, p in api_routes()}
    assert {"/api/sync/push", "/api/sync/pull", "/api/desa", "/api/auth/me"} <= paths


def test_every_private_route_refuses_a_request_without_a_token(server: LiveServer) -> None:
    with server.client() as c:
        for method, path in api_routes():
            if (method, path) in PUBLIC:
                continue
            r = c.request(method, concrete(path), json={})
            assert r.status_code == 401, (method, path, r.status_code, r.text)
            assert r.json()["code"] == "auth_required"
