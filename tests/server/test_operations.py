"""Running the server in production: health and readiness, rate limits shared by the workers through
Redis, structured request logs, security headers, and cookies behind an HTTPS proxy (docs/deploy.md)."""

from __future__ import annotations

import json
import secrets
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import DESA_GEROKGAK, GEROKGAK, LiveServer, Store, start_server, stop_server
from tests.syncing import Device, mutation

REDIS = ("127.0.0.1", 6379)


def redis_reachable() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=2):
            return True
    except OSError:
        return False


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_lines(server: LiveServer) -> list[dict]:
    lines = []
    for line in server.log.read_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


@pytest.fixture
def limited(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """Two workers sharing Redis; 5 log-ins per minute per address, 3 pushes per minute per device. The
    secret is fresh, so the counts start at zero (they are namespaced per installation)."""
    if not redis_reachable():
        pytest.skip("no Redis at 127.0.0.1:6379")
    live = start_server(db_url, tmp_path, workers=2, extra_env={
        "KADER_REDIS_URL": "redis://127.0.0.1:6379/0", "KADER_SECRET_KEY": secrets.token_hex(16),
        "KADER_RATE_LOGIN_PER_MINUTE": "5", "KADER_RATE_PUSH_PER_MINUTE": "3"})
    yield live
    stop_server(live)


def test_liveness_and_readiness(server: LiveServer) -> None:
    with server.client() as c:
        assert c.get("/api/health/live").json() == {"status": "ok"}
        ready = c.get("/api/health/ready")
        assert ready.status_code == 200
        assert ready.json()["database"] == "ok" and ready.json()["rate_limit_store"] == "per-process"
        assert c.get("/api/health").json() == ready.json()


@pytest.mark.slow  # a server of its own
@pytest.mark.only_postgresql  # production's engine; a SQLite install runs one worker, and this is not about the engine
def test_readiness_fails_when_redis_is_down_but_log_in_still_works(db_url: str, tmp_path: Path,
                                                                   store: Store) -> None:
    """Rate limits fail open (the per-account lock in the database still holds); readiness says why."""
    live = start_server(db_url, tmp_path, extra_env={"KADER_REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0",
                                                    "KADER_RATE_LOGIN_PER_MINUTE": "5"},
                        ready_path="/api/health/live")
    try:
        with live.client() as c:
            ready = c.get("/api/health/ready")
            assert ready.status_code == 503
            assert ready.json()["rate_limit_store"] == "unreachable" and ready.json()["database"] == "ok"
            assert c.get("/api/health/live").status_code == 200
        assert live.login(*store.user("kader", DESA_GEROKGAK))
    finally:
        stop_server(live)


@pytest.mark.slow  # a server of its own
@pytest.mark.only_postgresql  # production's engine; a SQLite install runs one worker, and this is not about the engine
def test_log_in_limit_holds_across_workers(limited: LiveServer) -> None:
    """With per-process counting two workers would let 10 through; shared in Redis, exactly 5 pass."""
    statuses = []
    for _ in range(60):
        # A new connection each time, so the kernel spreads them over both workers.
        with httpx.Client(base_url=limited.url, timeout=30) as c:
            r = c.post("/api/auth/login", json={"username": "tidak.ada", "password": "salah-sekali",
                                                "device_name": "x"})
        statuses.append(r.status_code)
        if r.status_code == 429:
            body = r.json()
            assert body["code"] == "too_many_attempts" and 0 < int(r.headers["Retry-After"]) <= 60
        pids = {e["pid"] for e in log_lines(limited) if e.get("path") == "/api/auth/login"}
        if len(statuses) >= 12 and len(pids) == 2:
            break
    assert len(pids) == 2, "both workers should have answered"
    assert statuses.count(401) == 5
    assert set(statuses[5:]) == {429}


@pytest.mark.slow  # a server of its own
@pytest.mark.only_postgresql  # production's engine; a SQLite install runs one worker, and this is not about the engine
def test_push_limit_is_per_device(limited: LiveServer, store: Store) -> None:
    first = Device(limited, limited.login(*store.user("kader", DESA_GEROKGAK)))
    second = Device(limited, limited.login(*store.user("kader", DESA_GEROKGAK)))
    record = uuid.uuid4()
    for n in range(3):
        changes = {"jenis": "masalah", "uraian": f"Jalan rusak {n}", "bidang_code": "2"}
        op = "create" if n == 0 else "update"
        r = first.push_raw([mutation(op, "pengkajian", record, changes, base_version=n)])
        assert r.status_code == 200, r.text
    refused = first.push_raw([mutation("update", "pengkajian", record, {"uraian": "lagi"}, base_version=3)])
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_attempts"
    assert int(refused.headers["Retry-After"]) > 0
    # The refused push changed nothing; another phone is not held back by the first one's count.
    assert store.scalar("SELECT version FROM pengkajian WHERE id = :id", id=str(record)) in (3, "3")
    other = mutation("create", "pengkajian", uuid.uuid4(),
                     {"jenis": "potensi", "uraian": "Mata air", "bidang_code": "2"})
    assert second.push_raw([other]).status_code == 200


def test_every_request_is_one_json_log_line_without_secrets(server: LiveServer, store: Store) -> None:
    username, password = store.user("kader", DESA_GEROKGAK)
    token = server.login(username, password)
    request_id = uuid.uuid4().hex
    with server.client(token) as c:
        r = c.get("/api/sync/pull", params={"limit": 5}, headers={"X-Request-ID": request_id})
        assert r.status_code == 200 and r.headers["X-Request-ID"] == request_id
        assert c.get("/api/tidak-ada").headers["X-Request-ID"]
    [line] = [e for e in log_lines(server) if e.get("request_id") == request_id]
    assert line["method"] == "GET" and line["path"] == "/api/sync/pull" and line["status"] == 200
    assert line["user_id"] is not None and line["ms"] >= 0 and line["bytes"] > 0 and line["level"] == "info"
    text = server.log.read_text()
    assert token not in text and password not in text and "limit=5" not in text


@pytest.mark.parametrize("path", ["/", "/js/app.js", "/admin/", "/dasbor/", "/api/health", "/api/tidak-ada",
                                  "/tidak-ada", "/schema", "/schema/openapi.json", "/schema/swagger"])
def test_security_headers(server: LiveServer, path: str) -> None:
    with server.client() as c:
        r = c.get(path)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    csp = r.headers["Content-Security-Policy"]
    # Nobody else's page may frame ours ('self': the dashboard opens inside the admin).
    assert "frame-ancestors 'none'" in csp or "frame-ancestors 'self'" in csp
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    # Scripts only from this server (or none at all): never inline, never eval, never another origin.
    assert directives.get("script-src", directives.get("default-src")) in ("'self'", "'none'")
    assert "unsafe-eval" not in csp and "http" not in csp
    assert "Strict-Transport-Security" not in r.headers  # plain HTTP here


@pytest.mark.parametrize("path", ["/schema", "/schema/", "/schema/openapi.json", "/schema/swagger",
                                  "/schema/redoc", "/schema/oauth2-redirect.html"])
def test_the_api_description_loads_nothing_from_another_origin(server: LiveServer, path: str) -> None:
    """/schema shares its origin with the admin and the app: it serves the description as data (no
    viewer page whose scripts come from a CDN), under the API's Content-Security-Policy."""
    with server.client() as c:
        r = c.get(path)
    assert r.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'; sandbox"
    assert "<script" not in r.text and "<link" not in r.text and "cdn" not in r.text.lower()
    if path in ("/schema", "/schema/", "/schema/openapi.json"):
        assert r.status_code == 200 and r.json()["openapi"].startswith("3.")
        assert "html" not in r.headers["content-type"]
    else:
        assert r.status_code == 404  # no viewer page (Litestar's plain "Error 404" page, no script)


@pytest.mark.slow  # a server of its own
@pytest.mark.only_postgresql  # production's engine; a SQLite install runs one worker, and this is not about the engine
def test_behind_an_https_proxy_the_admin_logs_in_with_secure_cookies(db_url: str, tmp_path: Path,
                                                                     store: Store) -> None:
    """The proxy forwards ``X-Forwarded-Proto: https``; the public host passes the admin's CSRF check, a
    foreign Origin does not, and every cookie is Secure (the session one also HttpOnly) with SameSite."""
    live = start_server(db_url, tmp_path, extra_env={"KADER_PUBLIC_URL": "https://kader.example.go.id"})
    username, password = store.user("admin", GEROKGAK)
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7", "Host": "kader.example.go.id"}
    try:
        with httpx.Client(base_url=live.url, headers=proxied, timeout=30) as c:
            page = c.get("/admin/")
            assert page.status_code == 200
            assert page.headers["Strict-Transport-Security"].startswith("max-age=")
            csrf_cookie = page.headers["set-cookie"]
            assert "Secure" in csrf_cookie and "SameSite" in csrf_cookie
            csrf = csrf_cookie.split(";", 1)[0].split("=", 1)[1]
            body = {"username": username, "password": password}
            foreign = c.post("/admin/public/login/", json=body, headers={
                "X-CSRFToken": csrf, "Origin": "https://evil.example", "Cookie": f"csrftoken={csrf}"})
            assert foreign.status_code == 403
            ok = c.post("/admin/public/login/", json=body, headers={
                "X-CSRFToken": csrf, "Origin": "https://kader.example.go.id", "Cookie": f"csrftoken={csrf}"})
            assert ok.status_code == 200, ok.text
            session = next(v for v in ok.headers.get_list("set-cookie") if v.startswith("id="))
            attributes = {a.strip().split("=")[0].lower() for a in session.split(";")[1:]}
            assert {"secure", "httponly", "samesite"} <= attributes
        # The request log names the client the proxy forwarded, not the proxy.
        assert any(e.get("client") == "203.0.113.7" for e in log_lines(live))
    finally:
        stop_server(live)
