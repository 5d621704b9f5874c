"""Admin create / edit / delete of synced rows, through the sync engine's one write path.

An admin's save is turned into the mutation a phone would send and applied by ``sync.engine.push
.apply_mutation`` with ``Actor(via="admin", role=admin)``: the same checks (fields and their limits,
scope, references in the same desa, immutable ``desa_code``), the same merge rules, a version bump,
history and a ``change_seq`` — so the cadres' phones pull it, and a cadre's offline edit of the same
field made meanwhile becomes a conflict when she pushes. A delete is a tombstone.

piccolo-admin's edit form posts every field of the row as text. Here that becomes a mutation:
- only the fields a client may write (``sync.records.TABLES``) are taken, converted from form text;
  fields the server owns (version, change_seq, timestamps, authorship, flags) are ignored;
- ``version`` is the version the form was loaded at (the mutation's ``base_version``, moved past her
  own saves from the same open page), so a field the admin did not touch is not sent, and one someone
  else changed since she opened the form is a conflict (her value is kept in the conflict queue), never
  a silent overwrite;
- a changed ``review_state`` / ``review_note`` on a reviewable record is a review
  (``server.reviews.service.set_review``), with its rules (a note for perlu_perbaikan and ditolak);
- a reviewable record the admin corrected is marked ``edited_by_admin`` (in the same version).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.errors import KaderError, refusal
from server.reviews.service import REVIEWABLE, set_review
from sync.engine.push import Rejected, apply_mutation, changes_by_others
from sync.engine.tables import MODELS, row_to_wire
from sync.engine.writer import Actor, Writer, door_client
from sync.merge import changed_since, same
from sync.protocol import Create, Delete, MutationResult, Update
from sync.records import TABLES, to_wire
from sync.vocabulary import ReviewState, Role


@dataclass
class Saved:
    """The outcome of an admin save: the row as stored, and a conflict if her edit met another's."""

    row: dict[str, Any]
    status: str = "applied"  # applied, merged, conflict, unchanged
    conflict_id: uuid.UUID | None = None
    conflict_fields: list[str] = field(default_factory=list)


class AdminWriter(Writer):
    """The engine's Writer, marking a reviewable record ``edited_by_admin`` in the same new version as the
    admin's field changes (a version that only flags a conflict, or a review, is not an edit)."""

    async def update(self, row: Any, values: dict[str, Any], *, op: str = "update",
                     mutation_id: uuid.UUID | None = None) -> dict[str, list[Any]]:
        if op == "update" and values and getattr(row, "edited_by_admin", True) is False:
            values = {**values, "edited_by_admin": True}
        return await super().update(row, values, op=op, mutation_id=mutation_id)


def actor(who: Principal) -> Actor:
    """The office user as a writer: a client of her own, so her earlier saves are hers to the engine, as a
    phone's are (she keeps an edit page open after saving; saving it again is no conflict with herself)."""
    who.require_admin()
    return Actor(user_id=who.user_id, role=Role.admin, scope=who.scope, client_id=door_client("office", who.user_id),
                 via="admin")


def form_values(table: str, body: dict[str, Any]) -> dict[str, Any]:
    """The writable fields of ``body`` as wire values: form text converted to the field's type
    (``"3"`` → 3, JSON text → list), validated like a push. Other keys are ignored."""
    info = msgspec.inspect.type_info(TABLES[table].fields)
    kinds = {f.name: f.type for f in info.fields}  # type: ignore[attr-defined]
    given: dict[str, Any] = {}
    for name, value in body.items():
        kind = kinds.get(name)
        if kind is None:
            continue
        options = kind.types if isinstance(kind, msgspec.inspect.UnionType) else (kind,)
        if isinstance(value, str):
            if value == "" and any(isinstance(t, msgspec.inspect.NoneType) for t in options) and not any(
                    isinstance(t, msgspec.inspect.StrType) and not t.pattern and not t.min_length for t in options):
                value = None  # an emptied optional field (a code, a number, a date) is "none"
            elif any(isinstance(t, (msgspec.inspect.ListType, msgspec.inspect.DictType)) for t in options):
                try:
                    value = json.loads(value) if value.strip() else []
                except ValueError:
                    raise KaderError("invalid_fields", f"{name}: bukan JSON yang sah.") from None
        given[name] = value
    try:
        parsed = msgspec.convert(given, TABLES[table].fields, strict=False)
    except msgspec.ValidationError as e:
        raise KaderError("invalid_fields", str(e)) from None
    return to_wire(table, msgspec.structs.asdict(parsed))


def _model(table: str) -> Any:
    model = MODELS.get(table)
    if model is None:
        raise KaderError("method_not_allowed", f"Tabel {table} hanya bisa dibaca di admin.")
    return model


async def _apply(db: AsyncSession, writer: Writer, mutation: Create | Update | Delete) -> MutationResult:
    try:
        return await apply_mutation(db, writer, mutation)
    except Rejected as r:
        raise refusal(r.code, r.reason) from None


async def _load(writer: Writer, table: str, record_id: uuid.UUID) -> Any:
    row = await writer.load(_model(table), record_id)
    if row is None or not writer.actor.covers(row.desa_code):
        raise KaderError("not_found", f"{table} {record_id} tidak ditemukan dalam wilayah akun ini.")
    return row


async def create(db: AsyncSession, who: Principal, table: str, body: dict[str, Any]) -> Saved:
    _model(table)
    values = form_values(table, body)
    if "desa_code" not in values:
        raise KaderError("missing_fields", "desa_code (desa rekaman ini) wajib diisi.")
    writer = Writer(db, actor(who))
    record_id = uuid.uuid4()
    await _apply(db, writer, Create(mutation_id=uuid.uuid4(), seq=0, table=table, record_id=record_id,
                                    changes=values))
    await writer.finish()
    row = await writer.load(MODELS[table], record_id)
    return Saved(row=row_to_wire(row))


async def update(db: AsyncSession, who: Principal, table: str, record_id: uuid.UUID, body: dict[str, Any]) -> Saved:
    writer = AdminWriter(db, actor(who))
    row = await _load(writer, table, record_id)
    if row.deleted_at is not None:
        raise KaderError("conflict", f"{table} {record_id} sudah dihapus; tidak bisa diubah.")
    base = _base_version(body, row.version)
    if base > row.version:
        raise KaderError("conflict", f"version {base} lebih baru dari versi server ({row.version}).")
    # The values as the admin saw them: the record at ``base`` with her own later saves (piccolo-admin keeps
    # the edit page open after a save, with the version it was loaded at). Only what she changed is sent.
    others = await changes_by_others(db, writer.actor, table, row, base)
    seen = {**row_to_wire(row), **changed_since(others)}
    submitted = form_values(table, body)
    if "desa_code" in submitted and submitted.pop("desa_code") != row.desa_code:
        raise KaderError("invalid_fields", "desa_code tidak bisa diubah; buat rekaman baru di desa lain.")
    changes = {k: v for k, v in submitted.items() if not same(v, seen.get(k))}
    review = _review_change(table, body, seen)

    saved = Saved(row={}, status="unchanged")
    if changes:
        result = await _apply(db, writer, Update(mutation_id=uuid.uuid4(), seq=0, table=table, record_id=row.id,
                                                 base_version=base, changes=changes))
        saved.status = result.status
        saved.conflict_id, saved.conflict_fields = result.conflict_id, list(result.conflict_fields)
    await writer.finish()
    if review is not None:
        await set_review(db, who, table, [row.id], *review)
        saved.status = "applied" if saved.status == "unchanged" else saved.status
    saved.row = row_to_wire(row)
    return saved


async def delete(db: AsyncSession, who: Principal, table: str, record_id: uuid.UUID) -> None:
    """A tombstone (phones pull the delete); deleting a deleted record changes nothing."""
    writer = Writer(db, actor(who))
    row = await _load(writer, table, record_id)
    if row.deleted_at is None:
        await _apply(db, writer, Delete(mutation_id=uuid.uuid4(), seq=0, table=table, record_id=row.id,
                                        base_version=row.version))
        await writer.finish()


def _base_version(body: dict[str, Any], current: int) -> int:
    """The version the admin's form was loaded at; without one, the record as it is now."""
    raw = body.get("version")
    if raw in (None, ""):
        return current
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise KaderError("invalid_fields", "version harus bilangan bulat.") from None


def _review_change(table: str, body: dict[str, Any], seen: dict[str, Any]) -> tuple[ReviewState, str] | None:
    if table not in REVIEWABLE or ("review_state" not in body and "review_note" not in body):
        return None
    state = body.get("review_state") or seen["review_state"]
    note = body.get("review_note")
    note = seen["review_note"] if note is None else str(note)
    if state == seen["review_state"] and note.strip() == (seen["review_note"] or "").strip():
        return None
    try:
        return ReviewState(state), note
    except ValueError:
        raise KaderError("invalid_fields", f"review_state {state!r} tidak dikenal.") from None
