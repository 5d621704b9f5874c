"""Tokens and passwords never reach the logs (both databases): a server at log level debug (every
library's debug output too: SQLAlchemy's statements and parameters, uvicorn, piccolo) serves a log-in,
a push, a pull, a failed log-in, an office log-in and a log-out; the CLI resets a password at debug
level; then the whole output of both is searched for each secret in its obvious encodings."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DESA_GEROKGAK, GEROKGAK, LiveServer, Store, start_server, stop_server
from tests.syncing import Device, mutation

# A server of its own at debug level per database and log format: the whole suite runs it.
pytestmark = pytest.mark.slow


def encodings(secret: str) -> dict[str, str]:
    raw = secret.encode()
    return {
        "as is": secret,
        "base64": base64.b64encode(raw).decode(),
        "urlsafe base64": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "hex": raw.hex(),
        "url-encoded": urllib.parse.quote(secret, safe=""),
        "json": json.dumps(secret)[1:-1],
        "reversed": secret[::-1],
        "first half": secret[: max(12, len(secret) // 2)],  # a truncated "token=abcd…" is a leak too
        "basic auth": base64.b64encode(b"x:" + raw).decode()[4:],
    }


def leaks(text: str, secrets_: dict[str, str]) -> list[str]:
    return [f"{name} ({how})" for name, secret in secrets_.items() for how, form in encodings(secret).items()
            if form in text]


@pytest.fixture(params=["json", "text"])
def log_format(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def debug_server(db_url: str, tmp_path: Path, log_format: str) -> Iterator[LiveServer]:
    live = start_server(db_url, tmp_path, {"KADER_LOG_LEVEL": "debug", "KADER_LOG_FORMAT": log_format})
    yield live
    stop_server(live)


def test_the_probe_finds_a_secret_that_is_there() -> None:
    secret = "Sandi-" + secrets.token_hex(8)
    assert "p (url-encoded)" in leaks(f"pw={urllib.parse.quote(secret + '/+', safe='')}", {"p": secret + "/+"})
    assert leaks(f"Authorization: Basic {base64.b64encode(secret.encode()).decode()}", {"p": secret})
    assert not leaks("nothing to see", {"p": secret})


def test_no_token_or_password_in_the_debug_log(debug_server: LiveServer, store: Store, db_url: str,
                                               tmp_path: Path, log_format: str) -> None:
    password = "Rahasia-" + secrets.token_hex(10)
    wrong = "Keliru-" + secrets.token_hex(10)
    new_password = "Baru-" + secrets.token_hex(10)
    admin_password = "Kantor-" + secrets.token_hex(10)
    username, _ = store.user("kader", DESA_GEROKGAK, password=password)
    admin, _ = store.user("admin", GEROKGAK, password=admin_password)

    token = debug_server.login(username, password, device="log-probe")
    device = Device(debug_server, token)
    assert device.push(mutation("create", "pengkajian", uuid.uuid4(), {"jenis": "masalah", "uraian": "Log"})
                       )[0]["status"] == "applied"
    assert device.pull_all()
    with debug_server.client() as c:
        r = c.post("/api/auth/login", json={"username": username, "password": wrong})
        assert r.status_code == 401
        c.get("/admin/").raise_for_status()
        c.headers["X-CSRFToken"] = c.cookies["csrftoken"]
        assert c.post("/admin/public/login/", json={"username": admin, "password": admin_password}).status_code == 200
        session_cookie = c.cookies["id"]
        assert c.get("/dasbor/").status_code == 200
    with debug_server.client(token) as c:
        assert c.get("/api/sync/pull", params={"cursor": "bukan-kursor"}).status_code >= 400  # an error path too
        assert c.post("/api/auth/logout").status_code == 204
    with debug_server.client(token) as c:
        assert c.get("/api/auth/me").status_code == 401  # the revoked token, refused (and logged as such)

    env = {**os.environ, "KADER_DATABASE_URL": db_url, "KADER_DATA_DIR": str(tmp_path),
           "KADER_SECRET_KEY": "test-secret", "KADER_LOG_LEVEL": "debug", "KADER_LOG_FORMAT": log_format}
    cli = subprocess.run([str(Path(sys.executable).with_name("kader")), "user", "reset-password", username],
                         input=new_password + "\n", capture_output=True, text=True, env=env, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert debug_server.login(username, new_password, device="after-reset")

    stop_server(debug_server)  # flush everything it had to say
    log = debug_server.log.read_text(errors="replace") + cli.stdout + cli.stderr
    # The log is this server's, at debug level: had a secret been logged, it would be here.
    assert "/api/sync/push" in log and (" DEBUG " in log or '"level":"debug"' in log)
    found = leaks(log, {"device token": token, "password": password, "wrong password": wrong,
                        "new password": new_password, "admin password": admin_password,
                        "admin session": session_cookie})
    forms = [form for secret in (token, password, new_password, admin_password, session_cookie)
             for form in encodings(secret).values()]
    lines = [line[:300] for line in log.splitlines() if any(form in line for form in forms)]
    assert not found, (found, lines[:5])
