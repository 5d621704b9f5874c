"""Configuration, read once from ``KADER_*`` environment variables (documented in README.md)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    max_body_bytes: int = 5 * 1024 * 1024
    login_max_failures: int = 5
    login_lock_seconds_max: int = 900
    pool_size: int = 10
    log_level: str = "info"
    pwa_dir: Path = field(default=REPO_ROOT / "pwa")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("KADER_DATA_DIR") or REPO_ROOT / "data").resolve()
        url = os.environ.get("KADER_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'kader.sqlite3'}"
        return cls(
            data_dir=data_dir,
            database_url=url,
            secret_key=os.environ.get("KADER_SECRET_KEY") or _stored_secret(data_dir),
            max_body_bytes=_int("KADER_MAX_BODY_BYTES", 5 * 1024 * 1024),
            login_max_failures=_int("KADER_LOGIN_MAX_FAILURES", 5),
            login_lock_seconds_max=_int("KADER_LOGIN_LOCK_SECONDS_MAX", 900),
            pool_size=_int("KADER_DB_POOL_SIZE", 10),
            log_level=os.environ.get("KADER_LOG_LEVEL", "info"),
            pwa_dir=Path(os.environ.get("KADER_PWA_DIR") or REPO_ROOT / "pwa").resolve(),
        )


def _stored_secret(data_dir: Path) -> str:
    """A per-installation secret kept in the data directory, so every worker of one install agrees on it."""
    path = data_dir / "secret_key"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
