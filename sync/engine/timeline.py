"""Timelines: which database a phone synced with, and what a restore from a backup took back.

A restored database is the old one wound back to the moment of the backup. Phones may hold changes
it has never seen (they were acknowledged after the backup), and their cursors and base versions
count in the lost timeline. So every database has an identity (``sync_meta.database_id``); a restore
gives it a new one and records up to which ``change_seq`` it shares its past with each earlier identity
(``ancestors``; ``restored_at_seq`` is the share with the one the backup was taken of). Phones notice
the new identity, send again what they had sent, and pull from the start (docs/sync-protocol.md,
"Restored server").
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.upsert import upsert
from server.models import History, SyncCounter, SyncMeta
from sync.protocol import Create, Mutation


@dataclass(frozen=True, slots=True)
class Timeline:
    database_id: uuid.UUID
    # identity -> highest change_seq this database shares with it (its history up to there is identical)
    ancestors: dict[uuid.UUID, int] = field(default_factory=dict)

    def shared_with(self, origin: uuid.UUID) -> int:
        """The highest change_seq whose history ``origin`` and this database both hold. An identity
        never seen here (a restore of a restore the phone knows nothing of) shares nothing we can prove:
        0, so every version counts as possibly unseen and becomes a merge or a conflict, never an overwrite."""
        return self.ancestors.get(origin, 0)


async def current(db: AsyncSession) -> Timeline:
    return from_meta(await read_meta(db, "database_id", "ancestors"))


async def read_meta(db: AsyncSession, *keys: str) -> dict[str, str]:
    """The named ``sync_meta`` values that are set, in one statement."""
    return dict((await db.execute(select(SyncMeta.key, SyncMeta.value).where(SyncMeta.key.in_(keys)))).all())


def from_meta(meta: dict[str, str]) -> Timeline:
    """The timeline from ``sync_meta``'s ``database_id`` and ``ancestors``."""
    if "database_id" not in meta:
        raise RuntimeError("sync_meta.database_id is missing: run `kader migrate` (migration 0002 creates it)")
    ancestors = {uuid.UUID(k): int(v) for k, v in json.loads(meta.get("ancestors") or "{}").items()}
    return Timeline(uuid.UUID(meta["database_id"]), ancestors)


async def new_identity(db: AsyncSession) -> tuple[Timeline, int]:
    """After a restore: a new identity, sharing everything up to the highest change number of the restored
    data with the identity the backup was taken of (and, no further than that, with that one's ancestors).
    Returns the new timeline and that change number (``restored_at_seq``)."""
    old_id = await db.scalar(select(SyncMeta.value).where(SyncMeta.key == "database_id"))
    old = await current(db) if old_id else None
    # The counter is the highest number ever handed out in the restored data; numbers of transactions
    # that never committed are above every stored change_seq, so nothing shared is missed.
    seq = int(await db.scalar(select(func.max(SyncCounter.value))) or 0)
    ancestors = {k: min(v, seq) for k, v in old.ancestors.items()} if old else {}
    if old:
        ancestors[old.database_id] = seq
    timeline = Timeline(uuid.uuid4(), ancestors)
    await upsert(db, SyncMeta.__table__, [
        {"key": "database_id", "value": str(timeline.database_id)},
        {"key": "restored_at_seq", "value": str(seq)},
        {"key": "ancestors", "value": json.dumps({str(k): v for k, v in ancestors.items()})},
    ], ["key"])
    return timeline, seq


async def replayed(db: AsyncSession, mutations: list[Mutation]) -> tuple[Timeline, list[Mutation]]:
    """The current timeline, and the mutations with each replayed one's ``base_version`` moved into it.

    A mutation made against another identity (``origin``) names a version of that timeline. Versions
    up to the shared change number are the same here; later ones may differ. So its base becomes the
    highest version the two timelines share, never more than it said: changes others made here after
    the restore count as concurrent (merge or conflict), never as seen. The phone's own replayed
    versions are excluded from "others' changes" by the push as usual.
    """
    timeline = await current(db)
    out: list[Mutation] = []
    for m in mutations:
        if m.origin is None or m.origin == timeline.database_id or isinstance(m, Create):
            out.append(m)
            continue
        shared = await db.scalar(
            select(func.max(History.version)).where(History.table_name == m.table, History.record_id == m.record_id,
                                                    History.change_seq <= timeline.shared_with(m.origin))
        )
        out.append(msgspec.structs.replace(m, base_version=min(m.base_version, shared or 0)))
    return timeline, out
