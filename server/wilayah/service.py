"""Reading regions, dusun and the kader register within the caller's scope."""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.errors import KaderError, refusal
from server.models import Dusun, Kader, Wilayah
from server.models.enums import Jabatan, JenisKelamin, StatusKader
from sync.engine.push import Rejected, apply_mutation
from sync.engine.writer import Actor, Writer, door_client
from sync.protocol import Create
from sync.records import DusunFields, to_wire


class DesaOut(msgspec.Struct):
    code: str
    name: str
    kind: str
    kecamatan: str


class DusunOut(msgspec.Struct):
    id: uuid.UUID
    desa_code: str
    nama: str
    sebutan: str
    version: int


class KaderOut(msgspec.Struct):
    id: uuid.UUID
    desa_code: str
    nama: str
    jenis_kelamin: JenisKelamin
    jabatan: Jabatan
    no_sk: str
    periode: str
    status: StatusKader
    peran: list[str]


async def list_desa(db: AsyncSession, who: Principal) -> list[DesaOut]:
    kec = Wilayah.__table__.alias("kec")
    rows = await db.execute(
        select(Wilayah.code, Wilayah.name, Wilayah.kind, kec.c.name)
        .join(kec, kec.c.code == Wilayah.parent_code)
        .where(Wilayah.level == 4, who.scope_filter(Wilayah.code))
        .order_by(Wilayah.code)
    )
    return [DesaOut(code, name, kind, kecamatan) for code, name, kind, kecamatan in rows]


async def get_desa(db: AsyncSession, who: Principal, code: str) -> Wilayah:
    who.require_covers(code)
    desa = await db.get(Wilayah, code)
    if desa is None or desa.level != 4:
        raise KaderError("not_found", f"Desa {code} tidak ditemukan.")
    return desa


async def list_dusun(db: AsyncSession, who: Principal, desa_code: str) -> list[DusunOut]:
    await get_desa(db, who, desa_code)
    rows = await db.scalars(
        select(Dusun).where(Dusun.desa_code == desa_code, Dusun.deleted_at.is_(None)).order_by(Dusun.nama)
    )
    return [DusunOut(d.id, d.desa_code, d.nama, d.sebutan, d.version) for d in rows]


class DusunIn(DusunFields, forbid_unknown_fields=True):
    """A new dusun: the wire schema's dusun fields (their limits too) and, if the caller names it, its id."""

    id: uuid.UUID | None = None


async def create_dusun(db: AsyncSession, who: Principal, desa_code: str, data: DusunIn) -> DusunOut:
    """An admin defines a dusun: a create mutation through the engine's one write path (same checks, history
    and change number as a phone's), so phones of the desa pull it."""
    who.require_admin()
    await get_desa(db, who, desa_code)
    record_id = data.id or uuid.uuid4()
    if await db.get(Dusun, record_id) is not None:
        raise KaderError("conflict", f"Dusun {record_id} sudah ada.")
    changes = {"sebutan": "Dusun", **to_wire("dusun", msgspec.structs.asdict(data)), "desa_code": desa_code}
    changes.pop("id")
    if data.desa_code not in (msgspec.UNSET, desa_code):
        raise KaderError("invalid_fields", "desa_code harus desa pada alamat ini.")
    writer = Writer(db, Actor(user_id=who.user_id, role=who.role, scope=who.scope,
                              client_id=door_client("device", who.device_id), via="admin"))
    try:
        await apply_mutation(db, writer, Create(mutation_id=uuid.uuid4(), seq=0, table="dusun",
                                                record_id=record_id, changes=changes))
    except Rejected as r:
        raise refusal(r.code, r.reason) from None
    await writer.finish()
    dusun = await writer.load(Dusun, record_id)
    return DusunOut(dusun.id, dusun.desa_code, dusun.nama, dusun.sebutan, dusun.version)


async def list_kader(db: AsyncSession, who: Principal, desa_code: str) -> list[KaderOut]:
    await get_desa(db, who, desa_code)
    rows = await db.scalars(
        select(Kader).where(Kader.desa_code == desa_code, Kader.deleted_at.is_(None)).order_by(Kader.nama)
    )
    return [KaderOut(k.id, k.desa_code, k.nama, k.jenis_kelamin, k.jabatan, k.no_sk, k.periode, k.status, k.peran)
            for k in rows]
