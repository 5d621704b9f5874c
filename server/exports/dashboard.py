"""The numbers of the admin's dashboard, per desa of the admin's scope: submissions by review state,
awaiting review, open conflicts, and the cadres who have not synced for more than a week."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.types import utcnow
from server.exports import queries
from server.exports.reports import file_names
from server.models import Conflict, Musyawarah, Pengkajian, SyncClient, User, Usulan, Wilayah
from sync.vocabulary import ReviewState, Role

STALE_AFTER = dt.timedelta(days=7)
SUBMISSIONS = {"usulan": Usulan, "pengkajian": Pengkajian, "musyawarah": Musyawarah}
STATES = [ReviewState.diajukan, ReviewState.perlu_perbaikan, ReviewState.diverifikasi, ReviewState.ditolak]


class StaleKader(msgspec.Struct):
    username: str
    nama: str
    last_sync_at: dt.datetime | None  # the latest push or pull of any of her devices; None: never synced


class DesaSummary(msgspec.Struct):
    code: str
    name: str
    # {table: {review_state: count}} over the live (not deleted) records; every state present, 0 if none.
    submissions: dict[str, dict[str, int]]
    by_state: dict[str, int]
    awaiting_review: int  # diajukan
    open_conflicts: int
    kader_accounts: int  # active cadre accounts of this desa
    kader_not_synced: list[StaleKader]
    exports: dict[str, str]  # file name → URL


class Dashboard(msgspec.Struct):
    scope: str
    scope_name: str
    generated_at: dt.datetime
    stale_after_days: int
    desa: list[DesaSummary]


@dataclass(frozen=True, slots=True)
class _Desa:
    code: str
    name: str


async def dashboard(db: AsyncSession, who: Principal, export_url: Callable[[str, str], str],
                    now: dt.datetime | None = None) -> Dashboard:
    """``export_url(desa_code, file)`` makes the links (the API's for tokens, the page's for the browser)."""
    who.require_admin()
    now = now or utcnow()
    scope_name = await db.scalar(select(Wilayah.name).where(Wilayah.code == who.scope)) or who.scope
    desa = [_Desa(c, n) for c, n in await queries.desa_list(db, who)]

    submissions: dict[str, dict[str, dict[str, int]]] = {
        d.code: {t: {s.value: 0 for s in STATES} for t in SUBMISSIONS} for d in desa}
    for table, model in SUBMISSIONS.items():
        rows = await db.execute(
            select(model.desa_code, model.review_state, func.count())
            .where(who.scope_filter(model.desa_code), model.deleted_at.is_(None))
            .group_by(model.desa_code, model.review_state)
        )
        for code, state, count in rows:
            if code in submissions:
                submissions[code][table][str(state)] = count

    conflicts = dict((await db.execute(
        select(Conflict.desa_code, func.count())
        .where(who.scope_filter(Conflict.desa_code), Conflict.resolved_at.is_(None), Conflict.deleted_at.is_(None))
        .group_by(Conflict.desa_code)
    )).tuples().all())

    latest = (
        select(SyncClient.user_id, func.max(SyncClient.last_push_at).label("push"),
               func.max(SyncClient.last_pull_at).label("pull"))
        .group_by(SyncClient.user_id).subquery()
    )
    kader = await db.execute(
        select(User.wilayah_code, User.username, User.nama, latest.c.push, latest.c.pull)
        .outerjoin(latest, latest.c.user_id == User.id)
        .where(User.role == Role.kader, User.active.is_(True), who.scope_filter(User.wilayah_code))
        .order_by(User.username)
    )
    accounts: dict[str, int] = {}
    stale: dict[str, list[StaleKader]] = {}
    for code, username, nama, push, pull in kader:
        accounts[code] = accounts.get(code, 0) + 1
        last = max((t for t in (push, pull) if t is not None), default=None)
        if last is None or now - last > STALE_AFTER:
            stale.setdefault(code, []).append(StaleKader(username, nama, last))

    out = []
    for d in desa:
        per_table = submissions[d.code]
        by_state = {s.value: 0 for s in STATES}
        for counts in per_table.values():
            for state, count in counts.items():  # a state outside STATES (draf) is counted too
                by_state[state] = by_state.get(state, 0) + count
        out.append(DesaSummary(
            code=d.code, name=d.name, submissions=per_table, by_state=by_state,
            awaiting_review=by_state[ReviewState.diajukan.value], open_conflicts=conflicts.get(d.code, 0),
            kader_accounts=accounts.get(d.code, 0), kader_not_synced=stale.get(d.code, []),
            exports={f: export_url(d.code, f) for f in file_names()},
        ))
    return Dashboard(scope=who.scope, scope_name=scope_name, generated_at=now,
                     stale_after_days=STALE_AFTER.days, desa=out)
