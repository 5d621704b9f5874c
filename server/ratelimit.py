"""Rate limits on log-in (per client address) and push (per device), counted in one shared store.

Litestar's ``RateLimitMiddleware`` does the counting; what Kader adds is where the counts live and whom
they are counted for. With ``KADER_REDIS_URL`` the counts are in Redis, so every worker and every
server process behind the proxy sees the same count; without it each process counts on its own, which
is right for the single-process SQLite default and nothing else.

Keys never hold a device token: a push is counted under a hash of it (Redis is not a secret store).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from litestar import Request
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from redis.exceptions import RedisError

from server.settings import Settings

log = logging.getLogger("kader.ratelimit")

STORE = "rate_limit"
LOGIN_PATH = "/api/auth/login"
PUSH_PATH = "/api/sync/push"


class FailOpenRedisStore(RedisStore):
    """When Redis is down the limits lapse (logged) rather than the log-ins and pushes: the per-account
    log-in lock in the database still holds, and /api/health/ready reports Redis as down."""

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except RedisError:
            return False

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        try:
            return await super().get(key, renew_for)
        except RedisError as e:
            log.warning("rate limit store unavailable, not limiting: %s", type(e).__name__)
            return None

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        try:
            await super().set(key, value, expires_in)
        except RedisError as e:
            log.warning("rate limit store unavailable, not limiting: %s", type(e).__name__)


def rate_limit_store(settings: Settings) -> Store:
    if settings.redis_url:
        # One namespace per installation (its secret), so two installations may share one Redis.
        installation = hashlib.sha256(settings.secret_key.encode()).hexdigest()[:12]
        return FailOpenRedisStore.with_client(url=settings.redis_url, namespace=f"kader-rate-{installation}")
    return MemoryStore()


def _login_key(request: Request) -> str:
    return f"login:{get_remote_address(request)}"


def _push_key(request: Request) -> str:
    # Before authentication: an unknown token is counted too (and then refused by the token check).
    token = request.headers.get("authorization", "")
    return f"push:{hashlib.sha256(token.encode()).hexdigest()[:32]}"


def _only(path: str):  # noqa: ANN202 - Litestar calls it with the request
    async def check(request: Request) -> bool:
        return request.method == "POST" and request.url.path == path

    return check


def rate_limit_middleware(settings: Settings) -> list[DefineMiddleware]:
    """Middleware for the /api router; a limit of 0 per minute is no limit."""
    limits = [(settings.rate_login_per_minute, LOGIN_PATH, _login_key),
              (settings.rate_push_per_minute, PUSH_PATH, _push_key)]
    return [
        RateLimitConfig(rate_limit=("minute", per_minute), identifier_for_request=key, store=STORE,
                        check_throttle_handler=_only(path)).middleware
        for per_minute, path, key in limits if per_minute > 0
    ]
