"""The cadres' app as served: ``js/shell.js`` and ``sw.js`` carry a version derived from the app's files.

Phones serve the app's files from their cache first, so a changed file must come with a new version or
installed apps keep the old file for good. No one bumps a version by hand: each time these two files are
asked for, the server hashes every file of the app and fills in ``VERSION`` (the hash) and ``PRECACHE``
(every file) in ``js/shell.js``, and names the version in a first line of ``sw.js`` (browsers compare
the worker's script byte for byte to notice an update). Hashing the ~25 files costs about a millisecond.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from litestar import Response, get
from litestar.datastructures import State

SHELL, WORKER, PAGE = "js/shell.js", "sw.js", "index.html"
_VERSION = re.compile(r"^export const VERSION = .*;$", re.MULTILINE)
_PRECACHE = re.compile(r"^export const PRECACHE = \[[^\]]*\];$", re.MULTILINE)
_JS = "text/javascript"  # Litestar adds the charset


@dataclass(frozen=True, slots=True)
class AppShell:
    version: str
    precache: list[str]


def app_files(pwa_dir: Path) -> list[str]:
    """Every file of the app, as paths relative to its directory (hidden files, e.g. editors', left out)."""
    found = (p.relative_to(pwa_dir).as_posix() for p in pwa_dir.rglob("*") if p.is_file())
    return sorted(f for f in found if not any(part.startswith(".") for part in f.split("/")))


def describe(pwa_dir: Path) -> AppShell:
    """The version (a hash of every file's name and content) and what the service worker precaches:
    every file, the page under ``/``, the worker itself not (the browser keeps that)."""
    digest = hashlib.sha256()
    files = app_files(pwa_dir)
    for name in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256((pwa_dir / name).read_bytes()).digest())
    precache = ["/", *(f"/{name}" for name in files if name not in (PAGE, WORKER))]
    return AppShell(digest.hexdigest()[:12], precache)


def shell_js(pwa_dir: Path) -> str:
    shell = describe(pwa_dir)
    text = _fill(_VERSION, f"export const VERSION = {json.dumps(shell.version)};", (pwa_dir / SHELL).read_text())
    return _fill(_PRECACHE, f"export const PRECACHE = {json.dumps(shell.precache, indent=2)};", text)


def worker_js(pwa_dir: Path) -> str:
    return f"// Kader {describe(pwa_dir).version}\n" + (pwa_dir / WORKER).read_text()


def check(pwa_dir: Path) -> None:
    """At start: the app is where the settings say, and its shell.js has the lines to fill in."""
    if not (pwa_dir / PAGE).is_file():
        raise RuntimeError(f"the cadres' app is not in {pwa_dir} (no {PAGE}); see KADER_PWA_DIR")
    shell_js(pwa_dir)


def _fill(pattern: re.Pattern[str], line: str, text: str) -> str:
    filled, n = pattern.subn(lambda _: line, text, count=1)
    if n != 1:
        raise RuntimeError(f"{SHELL} has no line matching {pattern.pattern!r} for the server to fill in")
    return filled


def _script(text: str) -> Response[str]:
    # Revalidated on every fetch, like the other files, so an update is never hidden by an HTTP cache.
    return Response(text, media_type=_JS, headers={"Cache-Control": "no-cache"})


@get("/js/shell.js", include_in_schema=False, sync_to_thread=False)
def serve_shell(state: State) -> Response[str]:
    return _script(shell_js(state.settings.pwa_dir))


@get("/sw.js", include_in_schema=False, sync_to_thread=False)
def serve_worker(state: State) -> Response[str]:
    return _script(worker_js(state.settings.pwa_dir))
