"""A wheel that deploys: built from a clean copy of the sources, installed (not editable) into a new
virtual environment, and served from a directory that holds nothing of the repository, the server
finds its app, its migrations and the admin's templates inside the installed package.

The new environment borrows the test environment's installed dependencies through a ``.pth`` line,
added only after the wheel is installed (so pip sees an empty environment and nothing is downloaded).
The editable install of the repository in the test environment stays invisible: ``.pth`` files in a
directory reached that way are not read, so its import hook is never installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# What a clean checkout holds that a wheel is built from; the rest (.venv, data, caches, tests) stays.
SOURCES = ["pyproject.toml", "README.md", "server", "sync", "admin", "pwa"]


def run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done


def build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(REPO / name, source / name)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", tmp_path / "dist", source)
    [wheel] = (tmp_path / "dist").glob("kader-*.whl")
    return wheel


def install(wheel: Path, venv: Path) -> Path:
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel)
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (purelib / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return purelib


def test_an_installed_wheel_serves_the_app_the_admin_and_a_migrated_database_from_anywhere(tmp_path: Path) -> None:
    purelib = install(build_wheel(tmp_path), tmp_path / "venv")
    installed = purelib / "server"
    # the app is a copy inside the package, not a link back into the repository
    assert (installed / "pwa" / "index.html").is_file() and not (installed / "pwa").is_symlink()
    assert (purelib / "admin" / "templates" / "tinjauan.html").is_file()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KADER_", "PYTHON", "VIRTUAL_ENV"))}
    env |= {"KADER_DATA_DIR": str(tmp_path / "data"), "KADER_RATE_LOGIN_PER_MINUTE": "0"}
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen([tmp_path / "venv" / "bin" / "kader", "serve", "--port", str(port)], cwd=elsewhere,
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(server, url, tmp_path / "server.log")
        where = run(tmp_path / "venv" / "bin" / "python", "-c", "import server; print(server.__file__)",
                    cwd=elsewhere, env=env).stdout
        assert where.startswith(str(purelib)), where  # the installed code, not the repository's

        with httpx.Client(base_url=url, timeout=30) as http:
            page = http.get("/")
            assert page.status_code == 200 and "<title>Kader</title>" in page.text
            shell = http.get("/js/shell.js")
            assert shell.status_code == 200 and '"/js/app.js"' in shell.text
            ready = http.get("/api/health/ready")
            assert ready.status_code == 200 and ready.json()["status"] == "ok", ready.text
            assert http.get("/admin/").status_code == 200
            # an office page rendered from the installed templates, by the demo's kecamatan admin
            admin = next(line.split() for line in (tmp_path / "data" / "demo-logins.txt").read_text().splitlines()
                         if " admin " in line)
            http.headers["X-CSRFToken"] = http.cookies["csrftoken"]
            login = http.post("/admin/public/login/", json={"username": admin[0], "password": admin[1]})
            assert login.status_code == 200, login.text
            office = http.get("/admin/kantor/tinjauan/")
            assert office.status_code == 200 and "<form" in office.text, office.text[:500]
    finally:
        server.terminate()
        server.wait(30)
    assert not (elsewhere / "data").exists()  # the data went where KADER_DATA_DIR says


def wait_ready(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 120  # migrations and the demo's password hashes on a loaded machine
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/api/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the installed server did not get ready: {log.read_text()}")
