"""Configuration, read once from ``KADER_*`` environment variables (documented in README.md)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# The cadres' app ships inside the package (``server/pwa`` links to the repository's ``pwa/``; a wheel
# holds a copy), so an installed server finds it wherever it runs from.
PWA_DIR = Path(__file__).resolve().parent / "pwa"


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
    pwa_dir: Path = PWA_DIR
    # Shared store of the rate-limit counters; without it each worker counts on its own (fine for one).
    redis_url: str | None = None
    # Requests per minute; 0 turns a limit off. Log-ins per client address (a whole village may share
    # one carrier address, so not tight: the per-account lock does the rest); pushes per device token.
    rate_login_per_minute: int = 30
    rate_push_per_minute: int = 120
    # The address people use (``https://kader.example.go.id``): its host is allowed by the admin's CSRF
    # check, and with https the cookies are marked Secure.
    public_url: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    # Proxies whose X-Forwarded-For/-Proto are believed (uvicorn's ``forwarded_allow_ips``).
    trusted_proxies: str = "127.0.0.1"
    log_format: str = "json"

    @property
    def served_over_https(self) -> bool:
        return bool(self.public_url and self.public_url.lower().startswith("https://"))

    @property
    def admin_allowed_hosts(self) -> tuple[str, ...]:
        """Host names the admin's CSRF check accepts in Origin/Referer on HTTPS requests."""
        host = urlsplit(self.public_url).hostname if self.public_url else None
        return tuple(dict.fromkeys([*([host] if host else []), *self.allowed_hosts]))

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("KADER_DATA_DIR") or "data").resolve()  # ./data of where it runs
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
            pwa_dir=Path(os.environ.get("KADER_PWA_DIR") or PWA_DIR).resolve(),
            redis_url=os.environ.get("KADER_REDIS_URL") or None,
            rate_login_per_minute=_int("KADER_RATE_LOGIN_PER_MINUTE", 30),
            rate_push_per_minute=_int("KADER_RATE_PUSH_PER_MINUTE", 120),
            public_url=os.environ.get("KADER_PUBLIC_URL") or None,
            allowed_hosts=tuple(h.strip() for h in os.environ.get("KADER_ALLOWED_HOSTS", "").split(",") if h.strip()),
            trusted_proxies=os.environ.get("KADER_TRUSTED_PROXIES", "127.0.0.1"),
            log_format=os.environ.get("KADER_LOG_FORMAT", "json"),
        )


def password_hash_cost() -> str | None:
    """``KADER_PASSWORD_HASH_COST``: unset in production (RFC 9106's argon2 parameters); the test suite
    alone sets ``test`` (server/auth/passwords.py). Read apart from ``Settings`` because passwords are
    hashed outside the app too (the ``kader`` command, the tests' own accounts)."""
    return os.environ.get("KADER_PASSWORD_HASH_COST") or None


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
