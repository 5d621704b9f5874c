"""HTTP: the desa within the caller's scope, their dusun and their kader register."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from server.http import DB, Caller
from server.openapi_problems import problems
from server.wilayah import service
from server.wilayah.service import DesaOut, DusunIn, DusunOut, KaderOut


class DesaController(Controller):
    path = "/desa"
    tags = ["wilayah"]

    @get("/", operation_id="listDesa", summary="Desa and kelurahan within the caller's scope")
    async def list_desa(self, request: Caller, db: DB) -> list[DesaOut]:
        return await service.list_desa(db, request.user)

    @get("/{code:str}/dusun", operation_id="listDusun", summary="Dusun of one desa", responses=problems(404))
    async def list_dusun(self, request: Caller, db: DB, code: FromPath[str]) -> list[DusunOut]:
        return await service.list_dusun(db, request.user, code)

    @post("/{code:str}/dusun", operation_id="createDusun", summary="Add a dusun to a desa (admin)",
          responses=problems(403, 404, 409))
    async def create_dusun(self, request: Caller, db: DB, code: FromPath[str],
                           data: JSONBody[DusunIn]) -> DusunOut:
        return await service.create_dusun(db, request.user, code, data)

    @get("/{code:str}/kader", operation_id="listKader", summary="The kader register of one desa",
         responses=problems(404))
    async def list_kader(self, request: Caller, db: DB, code: FromPath[str]) -> list[KaderOut]:
        return await service.list_kader(db, request.user, code)
