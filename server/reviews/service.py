"""Setting review states, singly or in bulk, through the sync engine's one write path.

The state and the admin's note are columns of the record, so they reach the cadre's phone with the
next pull; the note is also kept as a comment, so the trail of notes survives later reviews.
"""

from __future__ import annotations

import re
import uuid

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.types import utcnow
from server.errors import KaderError
from sync.engine.tables import MODELS
from sync.engine.writer import Actor, Writer
from sync.vocabulary import ReviewState

REVIEWABLE = ("pengkajian", "musyawarah", "usulan")
NOTE_REQUIRED = (ReviewState.perlu_perbaikan, ReviewState.ditolak)
_REVIEW_COMMENT = re.compile(r"\[(" + "|".join(s.value for s in ReviewState) + r")\] (.*)", re.S)


def review_comment(state: ReviewState, note: str) -> str:
    """The comment that keeps a review's note in the record's trail. The state goes in as its code, so
    each reader (the phone in either language, the office) shows it in its own words."""
    return f"[{state.value}] {note}"


def split_review_comment(isi: str) -> tuple[str | None, str]:
    """(state, note) of a comment written by ``review_comment``; (None, isi) for any other comment."""
    m = _REVIEW_COMMENT.fullmatch(isi)
    return (m.group(1), m.group(2)) if m else (None, isi)


class Reviewed(msgspec.Struct):
    record_id: uuid.UUID
    version: int
    review_state: ReviewState


MAX_NOTE = 5_000


async def set_review(db: AsyncSession, who: Principal, table: str, ids: list[uuid.UUID], state: ReviewState,
                     note: str) -> list[Reviewed]:
    """All or nothing: one record out of scope or unknown refuses the whole request."""
    who.require_admin()
    if table not in REVIEWABLE:
        raise KaderError("invalid_fields", f"table must be one of {', '.join(REVIEWABLE)}, not {table!r}.")
    if state in (ReviewState.draf,):
        raise KaderError("invalid_fields", "draf is a state on the phone only.")
    if state in NOTE_REQUIRED and not note.strip():
        raise KaderError("missing_fields", f"A note for the cadre is required with {state.value}.")
    # Here, not only in /api/review's schema: the office's forms and admin edits come through this too.
    if len(note) > MAX_NOTE:
        limit = f"{MAX_NOTE:,}".replace(",", ".")  # 5.000, as Indonesian writes it
        raise KaderError("invalid_fields", f"Catatan tinjauan paling panjang {limit} karakter.")
    if "\x00" in note:
        raise KaderError("invalid_fields", "Catatan tinjauan tidak boleh memuat karakter NUL (U+0000).")
    model = MODELS[table]
    writer = Writer(db, Actor(user_id=who.user_id, role=who.role, scope=who.scope, via="admin"))
    rows = {r.id: r for r in await db.scalars(select(model).where(model.id.in_(ids)).with_for_update())}
    missing = [str(i) for i in ids if i not in rows or not who.covers(rows[i].desa_code) or rows[i].deleted_at]
    if missing:
        raise KaderError("not_found", f"{table} not found in this account's region: {', '.join(missing)}.")
    now = utcnow()
    out = []
    for record_id in ids:
        row = rows[record_id]
        await writer.update(row, {"review_state": state, "review_note": note.strip(), "reviewed_at": now,
                                  "reviewed_by": who.user_id}, op="review")
        if note.strip():
            comment = {"record_table": table, "record_id": record_id, "isi": review_comment(state, note.strip())}
            await writer.create(MODELS["komentar"], uuid.uuid4(), row.desa_code, comment)
        out.append(Reviewed(record_id, row.version, row.review_state))
    await writer.finish()
    return out
