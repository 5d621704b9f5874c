"""Shipping a new version of the cadres' app in a test: a copy of pwa/ served through KADER_PWA_DIR and
changed the way a developer changes it; the server derives the version from the files
(server/appshell.py), so a changed file is all it takes."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

REPO_PWA = Path(__file__).resolve().parents[2] / "pwa"


def served_version(url: str) -> str:
    """The version the server at ``url`` serves now (what the settings screen shows once it runs)."""
    r = httpx.get(f"{url}/js/shell.js", timeout=30)
    r.raise_for_status()
    found = re.search(r'^export const VERSION = "([^"]+)";$', r.text, re.MULTILINE)
    assert found, r.text
    return found.group(1)


def ship(copy: Path, note: str, reads: str | None = None) -> None:
    """A new version in ``copy``: app.js changed (a comment naming ``note``) and, with ``reads``, the
    outbox layouts it can read (``READS_OUTBOX``) replaced."""
    app = copy / "js" / "app.js"
    app.write_text(app.read_text() + f"\n// {note}\n")
    if reads:
        shell = copy / "js" / "shell.js"
        text, n = re.subn(r"export const READS_OUTBOX = \[[^\]]*\];", f"export const READS_OUTBOX = {reads};",
                          shell.read_text())
        assert n == 1
        shell.write_text(text)
