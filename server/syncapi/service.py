"""Between HTTP and the sync engine: decoding, the caller as an engine ``Actor``, errors as catalogue codes."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.errors import KaderError
from sync.engine import history as history_engine
from sync.engine import pull as pull_engine
from sync.engine import push as push_engine
from sync.engine import resolve as resolve_engine
from sync.engine.writer import Actor
from sync.protocol import (
    MAX_PULL_LIMIT,
    SUPPORTED_PROTOCOLS,
    PullResponse,
    PushRequest,
    PushResponse,
    ResolveRequest,
    push_decoder,
)


class _VersionProbe(msgspec.Struct):
    protocol_version: int = 0


def actor_for(who: Principal, client_id: uuid.UUID | None = None, via: str = "sync") -> Actor:
    return Actor(user_id=who.user_id, role=who.role, scope=who.scope, client_id=client_id, via=via)


def decode_push(body: bytes) -> PushRequest:
    """Refuse an unsupported protocol before reading further, so an old client hears "update first"
    rather than a validation error about fields it does not know."""
    try:
        version = msgspec.json.decode(body, type=_VersionProbe).protocol_version
    except msgspec.ValidationError as e:  # JSON, but not an object with a whole-number protocol_version
        raise KaderError("validation_failed", f"The push is invalid: {e}.") from None
    except msgspec.DecodeError as e:
        raise KaderError("bad_request", f"The body is not a JSON object: {e}.") from None
    except (UnicodeDecodeError, RecursionError) as e:  # msgspec raises these, not DecodeError
        raise _unreadable(e) from None
    if version not in SUPPORTED_PROTOCOLS:
        raise KaderError("update_required", f"Perbarui aplikasi dulu: protocol_version {version} is not accepted; "
                         f"this server accepts {', '.join(map(str, SUPPORTED_PROTOCOLS))}.",
                         headers={"X-Kader-Protocols": ",".join(map(str, SUPPORTED_PROTOCOLS))})
    try:
        return push_decoder.decode(body)
    except msgspec.ValidationError as e:
        raise KaderError("validation_failed", f"The push is invalid: {e}.") from None
    except msgspec.DecodeError as e:
        raise KaderError("bad_request", f"The body is malformed JSON: {e}.") from None
    except (UnicodeDecodeError, RecursionError) as e:
        raise _unreadable(e) from None


def _unreadable(e: UnicodeDecodeError | RecursionError) -> KaderError:
    if isinstance(e, UnicodeDecodeError):
        return KaderError("bad_request", f"The body is not valid UTF-8 (byte {e.start}).")
    return KaderError("bad_request", "The body is nested too deeply to be a push.")


async def push(db: AsyncSession, who: Principal, body: bytes) -> PushResponse:
    request = decode_push(body)
    try:
        return await push_engine.push(db, actor_for(who, request.client_id), request, who.device_id)
    except push_engine.ClientMismatch:
        raise KaderError("client_mismatch", "This client_id was registered by another account; "
                         "a new installation must make a new client_id.") from None


async def pull(db: AsyncSession, who: Principal, cursor: str | None, limit: int,
               protocol_version: int, client_id: uuid.UUID | None = None, estimate: bool = False) -> PullResponse:
    if protocol_version not in SUPPORTED_PROTOCOLS:
        raise KaderError("update_required", f"Perbarui aplikasi dulu: protocol_version {protocol_version} "
                         "is not accepted.")
    if not 1 <= limit <= MAX_PULL_LIMIT:
        raise KaderError("validation_failed", f"limit must be between 1 and {MAX_PULL_LIMIT}.")
    try:
        page = await pull_engine.pull(db, actor_for(who), cursor, limit, estimate)
    except pull_engine.DatabaseReplaced as e:
        raise KaderError("database_replaced", f"Sinkron ulang dari awal: {e}. Push again every mutation "
                         "sent to the old database (same mutation_id and origin), then pull from the start.") from None
    except pull_engine.ResyncRequired as e:
        raise KaderError("resync_required", f"Sinkron ulang dari awal: {e}. Keep unsent changes and pull "
                         "without a cursor.") from None
    if client_id is not None:
        await pull_engine.note_pull(db, actor_for(who, client_id), who.device_id)
    return page


async def resolve(db: AsyncSession, who: Principal, conflict_id: uuid.UUID, request: ResolveRequest,
                  via: str = "resolve") -> dict[str, Any]:
    try:
        return await resolve_engine.resolve(db, actor_for(who, via=via), conflict_id, request)
    except resolve_engine.ResolveError as e:
        raise KaderError(e.code, e.reason) from None  # the engine speaks catalogue codes


class HistoryEntry(msgspec.Struct):
    version: int
    change_seq: int
    op: str
    via: str
    user_id: int | None
    at: str
    changes: dict[str, Any]


async def history(db: AsyncSession, who: Principal, table: str, record_id: uuid.UUID) -> list[HistoryEntry]:
    desa = await history_engine.desa_of(db, table, record_id)
    if desa is None or not who.covers(desa):
        raise KaderError("not_found", f"{table} {record_id} not found.")
    return [HistoryEntry(h.version, h.change_seq, h.op, h.via, h.user_id, h.at.isoformat(), h.changes)
            for h in await history_engine.entries(db, table, record_id)]
