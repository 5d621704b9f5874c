"""Structured logs: one JSON object per line, and one line per HTTP request.

The request line is written here rather than by uvicorn's access log or Litestar's logging middleware
because those can include headers, cookies, query strings or bodies; this one holds exactly the fields
below and nothing a cadre or an admin typed: never a token, a password, a cookie or a query string.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("kader.request")

_encoder = msgspec.json.Encoder()
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", ...extra fields}``; exceptions as a ``exc`` string."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,  # which worker
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _encoder.encode(entry).decode()


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler._kader = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    # Replace only our own handler (an app made twice in one process), never others' (pytest's capture).
    root.handlers[:] = [h for h in root.handlers if not getattr(h, "_kader", False)] + [handler]
    root.setLevel(level.upper())
    # aiosqlite's debug lines repeat every statement with its bound values (an admin's session token,
    # anything a cadre typed): never below INFO, whatever level is asked for.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, root.level))
    # The request line below replaces uvicorn's access log (which would add the query string).
    logging.getLogger("uvicorn.access").disabled = True


class RequestLogMiddleware:
    """Logs method, path, status, duration, response size, client address, account and a request id
    (the caller's ``X-Request-ID`` if it sent a sane one, else a new one; echoed in the response)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = _request_id(scope)
        seen: dict[str, int] = {"status": 0, "bytes": 0}

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            user = scope.get("user")
            client = scope.get("client")
            level = logging.WARNING if seen["status"] >= 500 or seen["status"] == 0 else logging.INFO
            log.log(level, "%s %s %s", scope["method"], scope["path"], seen["status"], extra={
                "method": scope["method"], "path": scope["path"], "status": seen["status"],
                "ms": round((time.perf_counter() - start) * 1000, 1), "bytes": seen["bytes"],
                "client": client[0] if client else None, "user_id": getattr(user, "user_id", None),
                "request_id": request_id,
            })


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if 0 < len(text) <= 64 and text.replace("-", "").isalnum():
                return text
    return uuid.uuid4().hex
