"""What a push batch reads before it writes, one statement per table instead of one per mutation.

A push checks, for every mutation, the record it changes (locked), the desa it creates in and the
records it refers to. Asked one by one that is several round trips per mutation; here the batch's rows
are locked table by table (``Writer.preload``), and the desa and referenced records are read in one
statement each. Anything not read up front (a komentar's target, say) is still looked up when needed.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Wilayah
from sync.engine.tables import MODELS
from sync.engine.writer import Writer
from sync.protocol import Create, Mutation
from sync.records import TABLES
from sync.vocabulary import Role


@dataclass
class BatchReads:
    """Answers to the read-only checks of one batch; a miss is looked up (without flushing the batch)."""

    writer: Writer
    levels: dict[str, int | None] = field(default_factory=dict)  # wilayah code -> level (None: unknown)
    owners: dict[tuple[str, uuid.UUID], str | None] = field(default_factory=dict)  # (table, id) -> desa_code

    async def desa_level(self, db: AsyncSession, code: str) -> int | None:
        if code not in self.levels:
            with db.no_autoflush:
                self.levels[code] = await db.scalar(select(Wilayah.level).where(Wilayah.code == code))
        return self.levels[code]

    async def owner(self, db: AsyncSession, table: str, record_id: uuid.UUID) -> str | None:
        """The desa of a record as this batch stands: rows it locked or created first, then what was read."""
        model = MODELS[table]
        known, row = self.writer.cached(model, record_id)
        if known:
            return row.desa_code if row is not None else None
        if (table, record_id) not in self.owners:
            with db.no_autoflush:  # the desa of a stored record never changes: the batch need not be flushed
                self.owners[(table, record_id)] = await db.scalar(select(model.desa_code)
                                                                  .where(model.id == record_id))
        return self.owners[(table, record_id)]


async def read_batch(db: AsyncSession, writer: Writer, mutations: list[Mutation]) -> BatchReads:
    """Lock the batch's existing rows, table by table in one order (ids sorted), so that two pushes
    touching the same records take their locks in the same order; then read the desa and references."""
    reads = BatchReads(writer)
    rows: dict[str, set[uuid.UUID]] = defaultdict(set)
    for m in mutations:
        if m.table in MODELS:
            rows[m.table].add(m.record_id)
    for table, model in MODELS.items():
        if rows.get(table):
            await writer.preload(model, sorted(rows[table]))
    codes = {_desa_of(m, writer) for m in mutations if isinstance(m, Create) and m.table in MODELS}
    codes.discard(None)
    if codes:
        found = dict((await db.execute(select(Wilayah.code, Wilayah.level).where(Wilayah.code.in_(codes)))).all())
        reads.levels = {code: found.get(code) for code in codes if isinstance(code, str)}
    wanted: dict[str, set[uuid.UUID]] = defaultdict(set)
    for m in mutations:
        for target, ref in _references(m):
            if not writer.cached(MODELS[target], ref)[0]:
                wanted[target].add(ref)
    if wanted:
        parts = [select(literal(target).label("t"), MODELS[target].id, MODELS[target].desa_code)
                 .where(MODELS[target].id.in_(sorted(ids))) for target, ids in sorted(wanted.items())]
        stmt = parts[0] if len(parts) == 1 else union_all(*parts)
        found_refs = {(t, uuid.UUID(str(i))): desa for t, i, desa in (await db.execute(stmt)).all()}
        reads.owners = {(t, i): found_refs.get((t, i)) for t, ids in wanted.items() for i in ids}
    return reads


def _desa_of(m: Mutation, writer: Writer) -> str | None:
    given = m.changes.get("desa_code") if isinstance(m.changes, dict) else None
    if isinstance(given, str):
        return given
    return writer.actor.scope if writer.actor.role == Role.kader else None


def _references(m: Mutation) -> list[tuple[str, uuid.UUID]]:
    """The (table, id) a mutation's changes point to, as far as they parse; bad values are left to the checks."""
    changes: dict[str, Any] = getattr(m, "changes", None) or {}
    spec = TABLES.get(m.table)
    if spec is None or not isinstance(changes, dict):
        return []
    out = []
    for name, target in spec.references:
        try:
            out.append((target, uuid.UUID(str(changes[name]))))
        except (KeyError, ValueError, TypeError):
            continue
    return out
