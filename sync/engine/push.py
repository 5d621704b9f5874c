"""Push: apply a batch of one client's mutations in one transaction (docs/sync-protocol.md, "Push").

Step numbers below refer to that document.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.bulk import insert_rows
from server.db.types import utcnow
from server.models import Conflict, History, ProcessedMutation, SyncClient, Wilayah
from sync.engine.batch import BatchReads, read_batch
from sync.engine.tables import MODELS, row_to_wire
from sync.engine.timeline import replayed
from sync.engine.writer import Actor, Writer, typed
from sync.merge import Merge, changed_since, decide_delete, merge_update
from sync.protocol import (
    SUPPORTED_PROTOCOLS,
    Create,
    Delete,
    Mutation,
    MutationResult,
    PushRequest,
    PushResponse,
    Update,
)
from sync.records import TABLES, FieldError, parse_changes
from sync.vocabulary import ReviewState, Role


class UpdateRequired(Exception):
    """The client speaks a protocol version this server no longer (or not yet) accepts."""


class ClientMismatch(Exception):
    """The client id is bound to another account."""


class Rejected(Exception):
    """A mutation refused: its ``error_code``, the developers' ``reason``, and the field to blame (with
    what is wrong with it) when one is."""

    def __init__(self, code: str, reason: str, field: str | None = None, problem: str | None = None) -> None:
        self.code, self.reason, self.field, self.problem = code, reason, field, problem


async def push(db: AsyncSession, actor: Actor, request: PushRequest, device_id: int | None) -> PushResponse:
    # Step 1: version negotiation, before anything is written.
    if request.protocol_version not in SUPPORTED_PROTOCOLS:
        raise UpdateRequired(request.protocol_version)
    # Step 2: the client, locked so that two pushes of one client run one after the other.
    await _register_client(db, actor, request, device_id)
    # Step 3: answers already given (a retry after a lost response) are given again, unchanged. Only
    # answers given to this account: a mutation id another account already used is a new mutation.
    ids = [m.mutation_id for m in request.mutations]
    done: dict[uuid.UUID, dict[str, Any]] = {
        mid: result for mid, result in (await db.execute(
            select(ProcessedMutation.mutation_id, ProcessedMutation.result)
            .join(SyncClient, SyncClient.id == ProcessedMutation.client_id)
            .where(ProcessedMutation.mutation_id.in_(ids), SyncClient.user_id == actor.user_id)
        )).all()
    } if ids else {}
    # Mutations replayed after a restore name versions of the lost timeline: moved onto this one.
    timeline, mutations = await replayed(db, request.mutations)
    # Step 4, as one unit: rows locked and checks read table by table, everything written at the end.
    # A mutation refused by a check is rejected without touching the database, so no savepoint is
    # needed for it; only when the database itself refuses something is the batch run again with a
    # savepoint per mutation, which then rejects that one alone.
    writer = Writer(db, actor, deferred=True)
    try:
        async with db.begin_nested():
            reads = await read_batch(db, writer, [m for m in mutations if m.mutation_id not in done])
            results, answers = await _apply_all(db, writer, request.client_id, mutations, dict(done), reads)
            await _store_answers(db, answers)
            await writer.finish()  # Step 5
    except (IntegrityError, _Partial):
        writer = Writer(db, actor)
        results, answers = await _apply_all(db, writer, request.client_id, mutations, dict(done), None)
        await _store_answers(db, answers)
        await writer.finish()  # Step 5: number every change of this batch, in commit order.
    return PushResponse(results=results, database_id=timeline.database_id)


async def _store_answers(db: AsyncSession, answers: list[dict[str, Any]]) -> None:
    """The batch's answers, in one INSERT (no ORM objects): written before the change counter is locked.
    Without flushing the rows the batch changed: they are written once, numbered, in ``Writer.finish``."""
    if answers:
        with db.no_autoflush:
            await insert_rows(db, ProcessedMutation.__table__, answers)


class _Partial(Exception):
    """A mutation was refused after it had begun writing: only a savepoint can take that back."""


async def _apply_all(db: AsyncSession, writer: Writer, client_id: uuid.UUID, mutations: list[Mutation],
                     done: dict[uuid.UUID, dict[str, Any]], reads: BatchReads | None,
                     ) -> tuple[list[MutationResult], list[dict[str, Any]]]:
    """Every mutation in order; ``reads`` given: checked against them, no savepoints (see ``push``).
    Returns the answers, and the ``processed_mutations`` rows of the new ones."""
    results: list[MutationResult] = []
    answers: list[dict[str, Any]] = []
    now = utcnow()
    for mutation in mutations:
        if mutation.mutation_id in done:  # answered before, or earlier in this same batch
            results.append(msgspec.convert(done[mutation.mutation_id], MutationResult))
            continue
        if reads is None:
            result = await _apply_isolated(db, writer, mutation)
        else:
            mark = writer.mark()
            try:
                result = await apply_mutation(db, writer, mutation, reads)
            except Rejected as r:
                if writer.mark() != mark:
                    raise _Partial from None
                result = _rejected(mutation, r)
        done[mutation.mutation_id] = msgspec.to_builtins(result)
        answers.append({"mutation_id": mutation.mutation_id, "client_id": client_id, "seq": mutation.seq,
                        "result": done[mutation.mutation_id], "created_at": now})
        results.append(result)
    return results, answers


async def _register_client(db: AsyncSession, actor: Actor, request: PushRequest, device_id: int | None) -> None:
    """Register the client on first use, or lock and update it: one statement either way. The row lock
    it takes lasts until commit, so a second push of this client waits and then sees this one's answers."""
    insert = postgresql.insert if db.bind.dialect.name == "postgresql" else sqlite.insert
    now = utcnow()
    top = max((m.seq for m in request.mutations), default=0)
    stmt = insert(SyncClient).values(id=request.client_id, user_id=actor.user_id, device_id=device_id,
                                     created_at=now, app_version=request.app_version,
                                     protocol_version=request.protocol_version, last_seq=top, last_push_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={"device_id": device_id, "app_version": request.app_version, "last_push_at": now,
              "protocol_version": request.protocol_version,
              "last_seq": case((SyncClient.last_seq > top, SyncClient.last_seq), else_=top)},
        where=SyncClient.user_id == actor.user_id,  # another account's client id is left as it is
    ).returning(SyncClient.id)
    if await db.scalar(stmt) is None:
        raise ClientMismatch(str(request.client_id))


async def _apply_isolated(db: AsyncSession, writer: Writer, mutation: Mutation) -> MutationResult:
    mark = writer.mark()
    try:
        async with db.begin_nested():
            return await apply_mutation(db, writer, mutation)
    except Rejected as r:
        writer.rollback_to(mark)
        return _rejected(mutation, r)
    except IntegrityError as e:
        writer.rollback_to(mark)
        return _rejected(mutation, Rejected("integrity",
                                            f"the database refused it: {str(e.orig).splitlines()[0][:200]}"))


def _rejected(m: Mutation, r: Rejected) -> MutationResult:
    return MutationResult(mutation_id=m.mutation_id, record_id=m.record_id, status="rejected", error_code=r.code,
                          reason=r.reason, field=r.field, problem=r.problem)


async def apply_mutation(db: AsyncSession, writer: Writer, m: Mutation,
                         reads: BatchReads | None = None) -> MutationResult:
    """Step 4a–4e for one mutation. Raises ``Rejected`` before it writes anything. ``reads``: the batch's
    checks read up front (``read_batch``); without, each is asked of the database here."""
    actor = writer.actor
    values = checked_changes(actor, m.table, m.changes)
    spec, model = TABLES[m.table], MODELS[m.table]
    row = await writer.load(model, m.record_id)
    if row is not None and not actor.covers(row.desa_code):
        if isinstance(m, Create):  # its id is taken elsewhere: a record cannot be made twice
            raise Rejected("out_of_scope", "this record is outside the region of this account")
        row = None  # another desa's record reads as one that does not exist (below: not_found)
    if isinstance(m, Create) and row is None:
        return await _create(db, writer, m, values, reads)
    if row is None:
        raise Rejected("not_found", f"{m.table} {m.record_id} does not exist on the server")
    if "desa_code" in values and values.pop("desa_code") != row.desa_code:
        raise Rejected("immutable_field", "desa_code cannot change; create the record in the other desa", "desa_code")
    if isinstance(m, Delete):
        if spec.append_only and actor.role != Role.admin:  # only the admin removes a comment (moderation)
            raise Rejected("append_only", f"{m.table} rows cannot be deleted, only added")
        return await _delete(db, writer, m, row)
    base = 1 if isinstance(m, Create) else m.base_version  # a re-sent create: its base is the first version
    if spec.append_only and values:
        raise Rejected("append_only", f"{m.table} rows cannot be edited, only added")
    return await _update(db, writer, m, row, values, base, reads)


def checked_changes(actor: Actor, table: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Step 4a–4b, for every door that writes a synced table (a push, a conflict's resolution): the table
    exists and the caller's role may write it, and the fields fit it. Returns them as wire values."""
    spec = TABLES.get(table)
    if spec is None:
        raise Rejected("unknown_table", f"unknown table {table!r}")
    if spec.admin_only and actor.role != Role.admin:
        raise Rejected("forbidden", f"{table} is kept by the kecamatan admin; cadres cannot change it")
    try:
        return parse_changes(table, changes)
    except FieldError as e:
        raise Rejected("invalid_fields", str(e), e.field, e.problem) from None


async def _create(db: AsyncSession, writer: Writer, m: Create, values: dict[str, Any],
                  reads: BatchReads | None = None) -> MutationResult:
    actor = writer.actor
    desa_code = values.pop("desa_code", None) or (actor.scope if actor.role == Role.kader else None)
    if desa_code is None:
        raise Rejected("missing_fields", "desa_code is required when an admin creates a record", "desa_code")
    if not actor.covers(desa_code):
        raise Rejected("out_of_scope", f"desa {desa_code} is outside the region of this account")
    level = (await reads.desa_level(db, desa_code) if reads is not None
             else await db.scalar(select(Wilayah.level).where(Wilayah.code == desa_code)))
    if level != 4:
        raise Rejected("invalid_reference", f"desa {desa_code} is not a known desa", "desa_code")
    missing = sorted(TABLES[m.table].required - values.keys())
    if missing:
        raise Rejected("missing_fields", f"required on create: {', '.join(missing)}", missing[0])
    await check_references(db, m.table, desa_code, values, reads)
    row = await writer.create(MODELS[m.table], m.record_id, desa_code, typed(m.table, values),
                              mutation_id=m.mutation_id)
    return MutationResult(mutation_id=m.mutation_id, record_id=m.record_id, status="applied", version=row.version)


async def _update(db: AsyncSession, writer: Writer, m: Update | Create, row: Any, values: dict[str, Any],
                  base: int, reads: BatchReads | None = None) -> MutationResult:
    if base > row.version:
        raise Rejected("bad_base_version", f"base_version {base} is newer than the server's version {row.version}")
    await check_references(db, m.table, row.desa_code, values, reads)
    if row.deleted_at is not None:
        # Edit versus delete: the edit is kept as a conflict, the record stays deleted until a person decides.
        fields = {k: {"base": None, "mine": v, "theirs": None} for k, v in values.items()}
        return await _conflict(db, writer, m, row, "edit_deleted", fields, base)
    others = await changes_by_others(db, writer.actor, m.table, row, base)
    merge: Merge = merge_update(row_to_wire(row), values, changed_since(others), concurrent=bool(others))
    extra = _resubmitted(row, writer.actor) if merge.apply else {}
    if merge.conflicts:
        extra["has_conflict"] = True  # flagged in the same new version as the fields that did apply
    await writer.update(row, {**typed(m.table, merge.apply), **extra}, op="update" if merge.apply else "flag",
                        mutation_id=m.mutation_id)
    if merge.conflicts:
        fields = {k: {"base": c.base, "mine": c.mine, "theirs": c.theirs} for k, c in merge.conflicts.items()}
        return await _conflict(db, writer, m, row, "field", fields, base)
    return MutationResult(mutation_id=m.mutation_id, record_id=m.record_id, status=merge.status, version=row.version)


def _resubmitted(row: Any, actor: Actor) -> dict[str, Any]:
    """A cadre's edit of a reviewed record sends it back for review (a correction of "perlu perbaikan")."""
    state = getattr(row, "review_state", None)
    if actor.role == Role.kader and state not in (None, ReviewState.diajukan, ReviewState.draf):
        return {"review_state": ReviewState.diajukan}
    return {}


async def _delete(db: AsyncSession, writer: Writer, m: Delete, row: Any) -> MutationResult:
    if m.base_version > row.version:
        raise Rejected("bad_base_version", f"base_version {m.base_version} is newer than the server's {row.version}")
    edited = bool(await changes_by_others(db, writer.actor, m.table, row, m.base_version, content_only=True))
    decision = decide_delete(edited_since_base=edited, deleted=row.deleted_at is not None)
    if decision == "delete":
        await writer.delete(row, mutation_id=m.mutation_id)
    if decision == "conflict":
        return await _conflict(db, writer, m, row, "delete_edited", {}, m.base_version)
    return MutationResult(mutation_id=m.mutation_id, record_id=m.record_id, status="applied", version=row.version)


async def changes_by_others(db: AsyncSession, actor: Actor, table: str, row: Any, base: int,
                             content_only: bool = False) -> list[dict[str, Any]]:
    """The ``{field: [old, new]}`` of the versions after ``base`` that this client did not make, oldest first.

    A client has seen its own earlier mutations of a record (they sit before this one in its outbox),
    so they are never "someone else's change": without this a cadre would conflict with herself when
    two of her offline edits of one record arrive in one push. ``content_only`` leaves out versions
    that only raised the conflict flag.
    """
    if row.version <= base:
        return []
    mine = actor.client_id
    query = (select(History.changes, History.client_id)
             .where(History.table_name == table, History.record_id == row.id, History.version > base)
             .order_by(History.version))
    if mine is None:
        rows = await db.execute(query)
    else:
        # What this transaction has not flushed yet is this same client's, left out below anyway: no
        # need to flush the batch (and insert its rows before their change numbers are known).
        with db.no_autoflush:
            rows = await db.execute(query)
    return [changes for changes, client_id in rows
            if (mine is None or client_id != mine) and not (content_only and set(changes) <= {"has_conflict"})]


async def _conflict(db: AsyncSession, writer: Writer, m: Mutation, row: Any, kind: str,
                    fields: dict[str, dict[str, Any]], base: int) -> MutationResult:
    """Keep the cadre's values in a conflict record and flag the row; nothing typed is dropped."""
    actor = writer.actor
    conflict = await writer.create(
        Conflict, uuid.uuid4(), row.desa_code,
        {"table_name": m.table, "record_id": row.id, "kind": kind, "field_values": fields, "base_version": base,
         "server_version": row.version, "mutation_id": m.mutation_id, "client_id": actor.client_id},
        mutation_id=m.mutation_id,
    )
    await writer.update(row, {"has_conflict": True}, op="flag", mutation_id=m.mutation_id)
    return MutationResult(mutation_id=m.mutation_id, record_id=m.record_id, status="conflict", version=row.version,
                          conflict_fields=sorted(fields), conflict_id=conflict.id)


async def check_references(db: AsyncSession, table: str, desa_code: str, values: dict[str, Any],
                            reads: BatchReads | None = None) -> None:
    """A referenced record must exist and belong to the same desa (never another desa's)."""
    for name, target in TABLES[table].references:
        ref = values.get(name)
        if ref is None:
            continue
        model = MODELS[target]
        found = (await reads.owner(db, target, uuid.UUID(str(ref))) if reads is not None
                 else await db.scalar(select(model.desa_code).where(model.id == uuid.UUID(str(ref)))))
        if found != desa_code:
            raise Rejected("invalid_reference", f"{name}: {target} {ref} does not exist in desa {desa_code}", name)
    if table == "komentar" and "record_table" in values:
        target = values["record_table"]
        if target not in MODELS or target == "komentar":
            raise Rejected("invalid_fields", f"record_table: cannot comment on {target!r}", "record_table", "type")
        model, record_id = MODELS[target], uuid.UUID(str(values["record_id"]))
        found = (await reads.owner(db, target, record_id) if reads is not None
                 else await db.scalar(select(model.desa_code).where(model.id == record_id)))
        if found != desa_code:
            raise Rejected("invalid_reference", f"record_id: {target} {values['record_id']} not in desa {desa_code}",
                           "record_id")
