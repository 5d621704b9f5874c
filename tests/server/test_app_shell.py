"""The app checks itself: phones keep the app's files cache-first, so every file must be in the service
worker's precache and any changed file must be a new version, or installed phones keep the old file
for good. The server derives both from the files it serves (server/appshell.py); no one bumps a version.
Checked in-process on copies of pwa/ (no database is touched)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.settings import Settings
from tests.support.app_versions import REPO_PWA


def settings(tmp_path: Path, pwa_dir: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.sqlite3'}",
                    secret_key="test-secret", pwa_dir=pwa_dir)


@pytest.fixture
def app_copy(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    """The server on a copy of pwa/ that the test changes as a developer would."""
    copy = tmp_path / "pwa"
    shutil.copytree(REPO_PWA, copy)
    with TestClient(create_app(settings(tmp_path, copy))) as client:
        yield client, copy


def served(client: TestClient) -> tuple[str, list[str], str]:
    """VERSION and PRECACHE as the browser reads them from js/shell.js, and the worker's script."""
    shell = client.get("/js/shell.js")
    assert shell.status_code == 200 and shell.headers["content-type"].startswith("text/javascript")
    assert shell.headers["cache-control"] == "no-cache"
    version = re.search(r'^export const VERSION = "([0-9a-f]+)";$', shell.text, re.M)
    precache = re.search(r"^export const PRECACHE = (\[[^\]]*\]);$", shell.text, re.M)
    assert version and precache, shell.text
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.headers["content-type"].startswith("text/javascript")
    return version.group(1), json.loads(precache.group(1)), worker.text


def test_the_service_worker_precaches_every_file_of_the_app_and_the_server_serves_each(app_copy) -> None:
    client, copy = app_copy
    _, precache, _ = served(client)
    on_disk = {"/" + p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file()}
    # The page is kept under "/" (what a phone opens); the worker script the browser keeps by itself.
    assert set(precache) == on_disk - {"/index.html", "/sw.js"} | {"/"}
    assert len(precache) == len(set(precache))
    for url in precache:
        assert client.get(url).status_code == 200, url


def test_any_changed_added_or_removed_file_is_a_new_version_and_the_same_files_the_same(app_copy) -> None:
    client, copy = app_copy
    seen: dict[str, str] = {}

    def version_now(what: str) -> str:
        version, precache, worker = served(client)
        # the worker's own bytes change too: that is what makes a browser look at the update at all
        assert version in worker.splitlines()[0], worker[:200]
        assert version not in seen, f"{what}: same version {version} as after {seen.get(version)}"
        seen[version] = what
        return version

    first = version_now("the copy as shipped")
    assert served(client)[0] == first  # asked again, nothing changed: the same version

    for name in ("js/app.js", "css/app.css", "js/i18n/id.js", "index.html", "sw.js", "icons/icon-192.png"):
        path = copy / name
        path.write_bytes(path.read_bytes() + b"\n")
        version_now(f"a change to {name}")

    (copy / "js" / "baru.js").write_text("export const BARU = 1;\n")
    version_now("a new file")
    assert "/js/baru.js" in served(client)[1]
    (copy / "js" / "baru.js").unlink()
    (copy / "js" / "photo.js").rename(copy / "js" / "foto.js")
    version_now("a renamed file")
    assert "/js/photo.js" not in served(client)[1] and "/js/foto.js" in served(client)[1]


def test_the_repository_app_serves_the_same_version_as_a_copy_of_it(app_copy, tmp_path: Path) -> None:
    client, _ = app_copy
    with TestClient(create_app(settings(tmp_path, REPO_PWA))) as repo:
        assert served(repo)[0] == served(client)[0]


def test_a_server_without_the_app_does_not_start(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(RuntimeError, match="KADER_PWA_DIR"):
        create_app(settings(tmp_path, tmp_path / "empty"))
