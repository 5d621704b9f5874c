"""The one catalogue of error codes, and the handlers that turn every failure into problem details.

Clients branch on ``code``, never on the message text. Every 4xx names in plain words what is wrong.
Bodies are RFC 9457 problem details: ``{type, title, status, detail, code, errors?}``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

log = logging.getLogger("kader.errors")


@dataclass(frozen=True, slots=True)
class ErrorCode:
    status: int
    title: str


CATALOGUE: dict[str, ErrorCode] = {
    # 400: the request itself is wrong
    "bad_request": ErrorCode(400, "The request is malformed"),
    "validation_failed": ErrorCode(400, "The request body or parameters are invalid"),
    "wilayah_unknown": ErrorCode(400, "Unknown region code"),
    "missing_fields": ErrorCode(400, "Required fields are missing"),
    "invalid_fields": ErrorCode(400, "Fields are invalid"),
    "invalid_reference": ErrorCode(400, "A referenced record does not exist in this desa"),
    # 401/403: who you are and what you may do
    "auth_required": ErrorCode(401, "A device token is required"),
    "auth_invalid_token": ErrorCode(401, "The device token is unknown or revoked"),
    "auth_invalid_credentials": ErrorCode(401, "Wrong username or password"),
    "forbidden": ErrorCode(403, "Not allowed for this account"),
    "out_of_scope": ErrorCode(403, "Outside the region this account may reach"),
    "client_mismatch": ErrorCode(403, "This client id belongs to another account"),
    # 404/405/409
    "not_found": ErrorCode(404, "Not found"),
    "method_not_allowed": ErrorCode(405, "Method not allowed"),
    "conflict": ErrorCode(409, "Conflicts with stored data"),
    "username_taken": ErrorCode(409, "Username already exists"),
    "already_resolved": ErrorCode(409, "The conflict was already resolved"),
    "resync_required": ErrorCode(410, "Start the pull again from the beginning"),
    "database_replaced": ErrorCode(410, "The server was restored from a backup: send again what was sent, "
                                        "then pull from the beginning"),
    # 413/415/429
    "body_too_large": ErrorCode(413, "The request body is too large"),
    "unsupported_media_type": ErrorCode(415, "Unsupported content type"),
    "update_required": ErrorCode(426, "Update the app before syncing"),
    "too_many_attempts": ErrorCode(429, "Too many attempts; wait before trying again"),
    # 5xx
    "internal_error": ErrorCode(500, "Internal server error"),
    "database_unavailable": ErrorCode(503, "The database is unavailable; try again"),
}

# Litestar's own HTTP errors, mapped onto the catalogue by status.
_BY_STATUS = {400: "bad_request", 401: "auth_required", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "body_too_large",
              415: "unsupported_media_type", 429: "too_many_attempts"}


class KaderError(Exception):
    """An expected failure with a catalogue code and a plain-words detail."""

    def __init__(self, code: str, detail: str | None = None, *, headers: dict[str, str] | None = None,
                 errors: list[dict[str, Any]] | None = None) -> None:
        if code not in CATALOGUE:
            raise ValueError(f"unknown error code {code!r}")
        self.code = code
        self.status = CATALOGUE[code].status
        self.detail = detail or CATALOGUE[code].title
        self.headers = headers or {}
        self.errors = errors
        super().__init__(self.detail)


# How a refusal of the sync engine (a mutation's ``error_code``) reads at a door that answers over HTTP
# instead of in a push answer. Out of scope and unknown are the same 404: another region's record is not
# this caller's business, not even its existence.
_REFUSALS = {
    "unknown_table": "not_found",
    "out_of_scope": "not_found",
    "not_found": "not_found",
    "forbidden": "forbidden",
    "invalid_fields": "invalid_fields",
    "missing_fields": "missing_fields",
    "invalid_reference": "invalid_fields",
    "immutable_field": "invalid_fields",
    "append_only": "method_not_allowed",
    "bad_base_version": "conflict",
    "integrity": "conflict",
}


def refusal(engine_code: str, reason: str) -> KaderError:
    return KaderError(_REFUSALS.get(engine_code, "invalid_fields"), reason)


def problem(code: str, detail: str, *, status: int | None = None, errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None) -> Response[dict[str, Any]]:
    entry = CATALOGUE[code]
    body: dict[str, Any] = {
        "type": f"https://kader.invalid/errors/{code}",
        "title": entry.title,
        "status": status or entry.status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    return Response(body, status_code=status or entry.status, media_type="application/problem+json",
                    headers=headers)


def handle_kader_error(_: Request, exc: KaderError) -> Response[dict[str, Any]]:
    return problem(exc.code, exc.detail, errors=exc.errors, headers=exc.headers)


def handle_validation(_: Request, exc: ValidationException) -> Response[dict[str, Any]]:
    errors = exc.extra if isinstance(exc.extra, list) else None
    detail = exc.detail if exc.detail and exc.detail != "Bad Request" else "The request is invalid."
    if errors:
        detail = "; ".join(f"{e.get('key') or 'body'}: {e.get('message')}" for e in errors if isinstance(e, dict))
    return problem("validation_failed", detail, errors=errors)


def handle_http(_: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    code = _BY_STATUS.get(exc.status_code)
    if code is None:
        code = "internal_error" if exc.status_code >= 500 else "bad_request"
    detail = exc.detail or CATALOGUE[code].title
    headers = dict(exc.headers or {})
    if code == "body_too_large":
        detail = "The request body is larger than this server accepts."
    if code == "too_many_attempts" and "RateLimit-Reset" in headers:
        # From server/ratelimit.py: say when to come back, in the header clients already honour.
        headers["Retry-After"] = headers["RateLimit-Reset"]
        detail = f"Too many requests from this address or device; try again in {headers['Retry-After']} s."
    return problem(code, detail, status=exc.status_code, headers=headers)


def handle_unexpected(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as SATimeoutError

    if isinstance(exc, (UnicodeDecodeError, RecursionError)) and _raised_reading_json_body(exc):
        # Litestar turns msgspec's DecodeError into a 400 but lets these two through: bytes that are not
        # UTF-8, and JSON nested deeper than the decoder goes. The client sent them; not a server fault.
        detail = ("The body is not valid UTF-8." if isinstance(exc, UnicodeDecodeError)
                  else "The body is nested too deeply.")
        return problem("bad_request", detail)
    if isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _UNSTORABLE_TEXT:
        # Text PostgreSQL cannot hold (a NUL character) in a field, a path or a query: the client's input.
        # The request's transaction is rolled back, so nothing was written.
        return problem("bad_request", "Text may not contain the NUL character (U+0000).")
    if isinstance(exc, SATimeoutError) or (isinstance(exc, OperationalError) and "locked" in str(exc.orig)):
        # Pool exhausted, or SQLite's write lock not had within its busy timeout: busy, not broken.
        log.warning("database busy on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return problem("database_unavailable", "The database is busy; retry shortly. Nothing was written.",
                       headers={"Retry-After": "2"})
    if isinstance(exc, (OperationalError, DBAPIError, ConnectionError, OSError)) and _is_connection_error(exc):
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return problem("database_unavailable", "The database could not be reached; retry shortly.",
                       headers={"Retry-After": "5"})
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem("internal_error", "Something went wrong on the server; it has been logged.",
                   status=HTTP_500_INTERNAL_SERVER_ERROR)


# PostgreSQL SQLSTATEs of a database that is away or on its way back (restart, failover), where a retry
# in a moment succeeds: class 08 (connection exception), admin/crash shutdown, "the database system is
# starting up" / "shutting down" (57P03, whose message names no connection), too many connections.
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}


# PostgreSQL: character_not_in_repertoire (a NUL in text), untranslatable_character (a \u0000 in jsonb).
_UNSTORABLE_TEXT = {"22021", "22P05"}


def _raised_reading_json_body(exc: BaseException) -> bool:
    """Whether ``exc`` came out of Litestar decoding a request's JSON (and not from anywhere else)."""
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == "decode_json" and "litestar" in code.co_filename:
            return True
        tb = tb.tb_next
    return False


def _is_connection_error(exc: Exception) -> bool:
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
        if sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES:
            return True
        return bool(exc.connection_invalidated) or "connect" in str(exc.orig).lower()
    return True


EXCEPTION_HANDLERS = {
    KaderError: handle_kader_error,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    Exception: handle_unexpected,
}

