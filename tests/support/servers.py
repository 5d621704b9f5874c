"""The real app in a uvicorn subprocess, as the tests start it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

# The `kader` command of this environment (its console script, else the module).
_SCRIPT = Path(sys.executable).with_name("kader")
KADER = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "server.cli"]

# What pytest runs with (tests/conftest.py puts it in os.environ, so every server and command a test
# starts inherits it): argon2 at a test cost, which production never reads (server/auth/passwords.py).
# Not set by merely importing these helpers: bench/ starts servers with them and measures production.
TEST_ENV = {"KADER_PASSWORD_HASH_COST": "test"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url = url
        self.process = process
        self.log = log

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def login(self, username: str, password: str, device: str = "test") -> str:
        with self.client() as c:
            r = c.post("/api/auth/login", json={"username": username, "password": password, "device_name": device})
        assert r.status_code == 200, r.text
        return r.json()["token"]


def start_server(db_url: str, data_dir: Path, extra_env: dict[str, str] | None = None,
                 workers: int = 1, ready_path: str = "/api/health", port: int | None = None) -> LiveServer:
    """The real app in a uvicorn subprocess; with ``workers`` > 1, uvicorn's supervisor and its workers.
    ``port`` starts it again where a stopped one listened (its clients keep their address)."""
    port = port or free_port()
    # Rate limits off unless a test asks for them: the suite logs in hundreds of accounts from 127.0.0.1.
    env = {**os.environ, "KADER_DATABASE_URL": db_url, "KADER_DATA_DIR": str(data_dir),
           "KADER_SECRET_KEY": "test-secret", "KADER_RATE_LOGIN_PER_MINUTE": "0", "KADER_RATE_PUSH_PER_MINUTE": "0",
           **(extra_env or {})}
    log = data_dir / f"server-{port}.log"
    args = [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning"]
    if workers > 1:
        args += ["--workers", str(workers)]
    process = subprocess.Popen(args, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a loaded 2-core machine may take long to import and fork
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            healthy = httpx.get(f"{url}{ready_path}", timeout=1).status_code == 200
            if healthy and (workers == 1 or len(children(process)) >= workers):
                return LiveServer(url, process, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"server did not start: {log.read_text()}")


def children(process: subprocess.Popen[bytes]) -> list[int]:
    path = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
