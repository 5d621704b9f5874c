"""The kecamatan office's work beyond piccolo-admin's tables: the review queue, a record with its history,
the conflict queue, and cadre accounts. Every function takes the admin (a ``Principal``) and reads or
changes only what lies within her region; something outside it is "not found", never "forbidden".

Writes go through the services every other door uses: reviews through ``server.reviews.service``,
conflict resolution through ``sync.engine.resolve`` (same rules and audit as a cadre's), accounts
through ``server.auth.service``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import service as auth_service
from server.auth.principal import Principal
from server.errors import KaderError
from server.models import Conflict, Device, Komentar, SyncClient, User, Wilayah
from server.reviews.service import REVIEWABLE
from server.syncapi import service as sync_service
from sync.engine import history as history_engine
from sync.engine.tables import MODELS, column_names, row_to_wire
from sync.protocol import ResolveRequest
from sync.vocabulary import ReviewState, Role

# How a record is named in lists: its most telling text field.
SUMMARY_FIELDS = {"pengkajian": ("uraian",), "musyawarah": ("jenis", "tanggal", "tempat"), "usulan": ("kegiatan",),
                  "kehadiran": ("nama", "jenis_kelamin"), "dusun": ("nama",), "kader": ("nama",), "komentar": ("isi",)}
REVIEW_STATES = (ReviewState.diajukan, ReviewState.perlu_perbaikan, ReviewState.diverifikasi, ReviewState.ditolak)
MAX_LIST = 500


def _not_found(what: str) -> KaderError:
    return KaderError("not_found", f"{what} tidak ditemukan dalam wilayah akun ini.")


UNNAMED = "(tanpa nama)"  # an attendance line counted without a name


def summary(table: str, row: dict[str, Any]) -> str:
    parts = [str(row.get(f) or "") for f in SUMMARY_FIELDS.get(table, ())]
    if table == "kehadiran" and not parts[0]:
        parts[0] = UNNAMED
    text = " · ".join(p for p in parts if p)
    return text if len(text) <= 140 else text[:137] + "…"


async def desa_options(db: AsyncSession, who: Principal) -> list[tuple[str, str]]:
    rows = await db.execute(select(Wilayah.code, Wilayah.name)
                            .where(Wilayah.level == 4, who.scope_filter(Wilayah.code)).order_by(Wilayah.code))
    return [(c, n) for c, n in rows]


async def _usernames(db: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict((await db.execute(select(User.id, User.username).where(User.id.in_(wanted)))).tuples().all())


async def _desa_names(db: AsyncSession, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict((await db.execute(select(Wilayah.code, Wilayah.name).where(Wilayah.code.in_(codes)))).tuples().all())


# --- review queue ---------------------------------------------------------------------------------


class ReviewItem(msgspec.Struct):
    table: str
    id: uuid.UUID
    desa_code: str
    desa_name: str
    summary: str
    review_state: str
    review_note: str
    created_by: str
    updated_at: dt.datetime
    version: int
    has_conflict: bool
    edited_by_admin: bool


async def review_list(db: AsyncSession, who: Principal, table: str, state: str | None = None,
                      desa: str | None = None, limit: int = 200) -> list[ReviewItem]:
    """Live records of one reviewable table within the region, oldest change first (the queue order)."""
    who.require_admin()
    if table not in REVIEWABLE:
        raise KaderError("invalid_fields", f"tabel harus salah satu dari {', '.join(REVIEWABLE)}.")
    if state and state not in {s.value for s in ReviewState}:
        raise KaderError("invalid_fields", f"status harus salah satu dari {', '.join(s.value for s in ReviewState)}.")
    model = MODELS[table]
    query = select(model).where(who.scope_filter(model.desa_code), model.deleted_at.is_(None))
    if state:
        query = query.where(model.review_state == ReviewState(state))
    if desa:
        query = query.where(model.desa_code == desa)
    rows = list(await db.scalars(query.order_by(model.updated_at).limit(min(limit, MAX_LIST))))
    names = await _usernames(db, {r.created_by for r in rows})
    desa_names = await _desa_names(db, {r.desa_code for r in rows})
    return [ReviewItem(table, r.id, r.desa_code, desa_names.get(r.desa_code, ""), summary(table, row_to_wire(r)),
                       str(r.review_state), r.review_note, names.get(r.created_by, ""), r.updated_at, r.version,
                       r.has_conflict, r.edited_by_admin) for r in rows]


# --- a record and its history ---------------------------------------------------------------------


class Change(msgspec.Struct):
    field: str
    old: Any
    new: Any


class HistoryItem(msgspec.Struct):
    version: int
    change_seq: int
    op: str
    via: str
    user: str
    at: dt.datetime
    changes: list[Change]


class CommentItem(msgspec.Struct):
    id: uuid.UUID
    isi: str
    user: str
    at: dt.datetime


class RecordView(msgspec.Struct):
    table: str
    id: uuid.UUID
    desa_code: str
    desa_name: str
    summary: str
    deleted: bool
    reviewable: bool
    fields: dict[str, Any]
    people: dict[str, str]  # the account columns (created_by, …) as usernames
    history: list[HistoryItem]
    comments: list[CommentItem]
    open_conflicts: list[uuid.UUID]


async def _row(db: AsyncSession, who: Principal, table: str, record_id: uuid.UUID) -> Any:
    model = MODELS.get(table)
    row = await db.get(model, record_id) if model is not None else None
    if row is None or not who.covers(row.desa_code):
        raise _not_found(f"{table} {record_id}")
    return row


async def history(db: AsyncSession, who: Principal, table: str, record_id: uuid.UUID) -> list[HistoryItem]:
    """Every accepted change of the record, oldest first: who, when, through what, field old → new."""
    who.require_admin()
    await _row(db, who, table, record_id)
    entries = await history_engine.entries(db, table, record_id)
    names = await _usernames(db, {h.user_id for h in entries})
    return [HistoryItem(h.version, h.change_seq, h.op, h.via, names.get(h.user_id, ""), h.at,
                        [Change(k, v[0], v[1]) for k, v in (h.changes or {}).items()]) for h in entries]


async def record(db: AsyncSession, who: Principal, table: str, record_id: uuid.UUID) -> RecordView:
    row = await _row(db, who, table, record_id)
    wire = row_to_wire(row)
    comments = list(await db.scalars(
        select(Komentar).where(Komentar.record_table == table, Komentar.record_id == record_id,
                               Komentar.deleted_at.is_(None)).order_by(Komentar.created_at)))
    people = [k for k in ("created_by", "updated_by", "reviewed_by", "user_id") if wire.get(k) is not None]
    names = await _usernames(db, {c.created_by for c in comments} | {wire[k] for k in people})
    conflicts = list(await db.scalars(select(Conflict.id).where(
        Conflict.table_name == table, Conflict.record_id == record_id, Conflict.resolved_at.is_(None))))
    return RecordView(
        table=table, id=row.id, desa_code=row.desa_code,
        desa_name=(await _desa_names(db, {row.desa_code})).get(row.desa_code, ""), summary=summary(table, wire),
        deleted=row.deleted_at is not None, reviewable=table in REVIEWABLE,
        fields={k: wire[k] for k in column_names(type(row))}, people={k: names.get(wire[k], "") for k in people},
        history=await history(db, who, table, record_id),
        comments=[CommentItem(c.id, c.isi, names.get(c.created_by, ""), c.created_at) for c in comments],
        open_conflicts=conflicts)


# --- conflict queue -------------------------------------------------------------------------------


class ConflictField(msgspec.Struct):
    name: str
    base: Any  # the value both sides started from
    mine: Any  # the cadre's (or the admin's) value, held by the conflict
    theirs: Any  # the server's value when the conflict arose
    current: Any  # the record's value now


class ConflictItem(msgspec.Struct):
    id: uuid.UUID
    table: str
    record_id: uuid.UUID
    desa_code: str
    desa_name: str
    kind: str  # field, edit_deleted, delete_edited
    summary: str
    record_deleted: bool
    base_version: int
    server_version: int
    record_version: int
    by: str
    at: dt.datetime
    fields: list[ConflictField]


async def open_conflicts(db: AsyncSession, who: Principal, desa: str | None = None) -> list[ConflictItem]:
    """The region's unresolved conflicts, oldest first, each with base / held value / current value."""
    who.require_admin()
    query = select(Conflict).where(who.scope_filter(Conflict.desa_code), Conflict.resolved_at.is_(None),
                                   Conflict.deleted_at.is_(None))
    if desa:
        query = query.where(Conflict.desa_code == desa)
    conflicts = list(await db.scalars(query.order_by(Conflict.created_at).limit(MAX_LIST)))
    names = await _usernames(db, {c.created_by for c in conflicts})
    desa_names = await _desa_names(db, {c.desa_code for c in conflicts})
    out = []
    for c in conflicts:
        row = await db.get(MODELS[c.table_name], c.record_id)
        current = row_to_wire(row) if row is not None else {}
        fields = [ConflictField(name, v.get("base"), v.get("mine"), v.get("theirs"), current.get(name))
                  for name, v in (c.field_values or {}).items()]
        out.append(ConflictItem(
            id=c.id, table=c.table_name, record_id=c.record_id, desa_code=c.desa_code,
            desa_name=desa_names.get(c.desa_code, ""), kind=c.kind, summary=summary(c.table_name, current),
            record_deleted=row is None or row.deleted_at is not None, base_version=c.base_version,
            server_version=c.server_version, record_version=row.version if row is not None else 0,
            by=names.get(c.created_by, ""), at=c.created_at, fields=fields))
    return out


async def resolve(db: AsyncSession, who: Principal, conflict_id: uuid.UUID, request: ResolveRequest) -> dict[str, Any]:
    """Settle a conflict exactly as a cadre's resolution is settled (sync.engine.resolve)."""
    who.require_admin()
    try:
        return await sync_service.resolve(db, who, conflict_id, request)
    except KaderError as e:
        if e.code == "not_found":
            raise _not_found(f"Konflik {conflict_id}") from None
        raise


# --- cadre accounts -------------------------------------------------------------------------------


class DeviceItem(msgspec.Struct):
    id: int
    name: str
    created_at: dt.datetime
    last_seen_at: dt.datetime | None
    revoked_at: dt.datetime | None


class Account(msgspec.Struct):
    username: str
    nama: str
    desa_code: str
    desa_name: str
    active: bool
    locked_until: dt.datetime | None
    last_login: dt.datetime | None
    last_push_at: dt.datetime | None  # the latest push of any of her app installations
    last_pull_at: dt.datetime | None
    submissions: dict[str, int]  # live records she created, per table
    submissions_total: int
    devices: list[DeviceItem]


async def accounts(db: AsyncSession, who: Principal, username: str | None = None) -> list[Account]:
    """The cadre accounts of the desa within the region (admins are not managed here)."""
    who.require_admin()
    query = select(User).where(User.role == Role.kader, who.scope_filter(User.wilayah_code))
    if username is not None:
        query = query.where(User.username == username)
    users = list(await db.scalars(query.order_by(User.wilayah_code, User.username)))
    ids = [u.id for u in users]
    if not ids:
        return []
    sync = {uid: (push, pull) for uid, push, pull in await db.execute(
        select(SyncClient.user_id, func.max(SyncClient.last_push_at), func.max(SyncClient.last_pull_at))
        .where(SyncClient.user_id.in_(ids)).group_by(SyncClient.user_id))}
    counts: dict[int, dict[str, int]] = {uid: {t: 0 for t in REVIEWABLE} for uid in ids}
    for table in REVIEWABLE:
        model = MODELS[table]
        for uid, n in await db.execute(select(model.created_by, func.count())
                                       .where(model.created_by.in_(ids), model.deleted_at.is_(None))
                                       .group_by(model.created_by)):
            counts[uid][table] = n
    devices: dict[int, list[DeviceItem]] = {uid: [] for uid in ids}
    for d in await db.scalars(select(Device).where(Device.user_id.in_(ids)).order_by(Device.id)):
        devices[d.user_id].append(DeviceItem(d.id, d.name, d.created_at, d.last_seen_at, d.revoked_at))
    desa_names = await _desa_names(db, {u.wilayah_code for u in users})
    return [Account(u.username, u.nama, u.wilayah_code, desa_names.get(u.wilayah_code, ""), u.active, u.locked_until,
                    u.last_login, *sync.get(u.id, (None, None)), counts[u.id], sum(counts[u.id].values()),
                    devices[u.id]) for u in users]


async def _kader(db: AsyncSession, who: Principal, username: str) -> User:
    who.require_admin()
    user = await db.scalar(select(User).where(User.username == username).with_for_update())
    if user is None or user.role != Role.kader or not who.covers(user.wilayah_code):
        raise _not_found(f"Akun kader {username!r}")
    return user


async def create_account(db: AsyncSession, who: Principal, username: str, password: str, desa_code: str,
                         nama: str = "") -> Account:
    who.require_admin()
    if not who.covers(desa_code):
        raise _not_found(f"Desa {desa_code}")
    user = await auth_service.create_user(db, username, password, Role.kader, desa_code, nama=nama.strip())
    (account,) = await accounts(db, who, user.username)
    return account


async def reset_password(db: AsyncSession, who: Principal, username: str, password: str,
                         revoke_devices: bool = True) -> int:
    """A new password; by default her device tokens are revoked with it (a password is reset because it
    was lost or is known to others: the phones must then log in with the new one). Returns how many."""
    await _kader(db, who, username)
    await auth_service.reset_password(db, username, password)
    return await auth_service.revoke_devices(db, username) if revoke_devices else 0


async def set_active(db: AsyncSession, who: Principal, username: str, active: bool) -> int:
    """Deactivating also revokes every device: her phones must log in again if she is reactivated."""
    user = await _kader(db, who, username)
    user.active = active
    return 0 if active else await auth_service.revoke_devices(db, username)


async def revoke_devices(db: AsyncSession, who: Principal, username: str, device_id: int | None = None) -> int:
    user = await _kader(db, who, username)
    if device_id is None:
        return await auth_service.revoke_devices(db, username)
    result = await db.execute(update(Device).where(Device.id == device_id, Device.user_id == user.id,
                                                   Device.revoked_at.is_(None)).values(revoked_at=dt.datetime.now(dt.UTC)))
    if result.rowcount == 0 and await db.scalar(
            select(Device.id).where(Device.id == device_id, Device.user_id == user.id)) is None:
        raise _not_found(f"Perangkat {device_id}")
    return result.rowcount


# --- foreign-key picker for accounts --------------------------------------------------------------


async def user_choices(db: AsyncSession, who: Principal, search: str | None, limit: int | None,
                       offset: int) -> dict[str, str]:
    """``{id: username}`` of the accounts within the region, for piccolo-admin's author pickers and
    filters (created_by, updated_by, reviewed_by…). The account list itself stays out of piccolo-admin."""
    who.require_admin()
    query = select(User.id, User.username).where(who.scope_filter(User.wilayah_code))
    if search:
        like = f"%{search.lower()}%"
        query = query.where(or_(func.lower(User.username).like(like), func.lower(User.nama).like(like)))
    query = query.order_by(User.username).offset(max(offset, 0)).limit(min(limit or MAX_LIST, MAX_LIST))
    return {str(i): name for i, name in await db.execute(query)}
