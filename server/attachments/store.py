"""Attachment files on disk: ``<data dir>/attachments/<desa>/<sha256>``, written atomically.

Content-addressed, so an upload that is repeated (a phone retrying after a lost answer) writes the same
file again or nothing at all; a half-written upload never becomes visible under its name.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_BYTES = 3 * 1024 * 1024  # phones resize photos to well under 1 MB; anything bigger is a mistake
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}


def root(data_dir: Path) -> Path:
    return data_dir / "attachments"


def path_for(data_dir: Path, desa_code: str, sha256: str) -> Path:
    return root(data_dir) / desa_code / sha256


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def write(data_dir: Path, desa_code: str, sha256: str, body: bytes) -> bool:
    """Store ``body``; returns False when the file was already there (nothing written)."""
    target = path_for(data_dir, desa_code, sha256)
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def find(data_dir: Path, scope: str, sha256: str) -> Path | None:
    """The file within ``scope`` (a desa, or a kecamatan/kabupaten prefix for an admin), if any."""
    base = root(data_dir)
    direct = base / scope / sha256
    if direct.is_file():
        return direct
    if not base.is_dir():
        return None
    for desa_dir in base.iterdir():
        if desa_dir.name.startswith(scope + ".") and (desa_dir / sha256).is_file():
            return desa_dir / sha256
    return None


def media_type(head: bytes) -> str:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"
