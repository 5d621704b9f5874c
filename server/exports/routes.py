"""HTTP: ``/api/exports`` (the reports of a desa as CSV or XLSX) and ``/api/dashboard``, for admins.

Device token of an admin account; a cadre's token gets 403, a desa outside the admin's scope 404.
Reads run in a read-only session (on SQLite a deferred transaction: an export never waits for pushes).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TypeAlias

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.session import Database
from server.exports import dashboard as dashboard_service
from server.exports import queries, reports
from server.exports.render import CONTENT_TYPES, content_disposition
from server.http import Caller
from server.openapi_bodies import binary_response, described
from server.openapi_problems import problems

API_PREFIX = "/api/exports"

# The file's media type is chosen by its name at run time; /schema lists the ones it can be.
ExportFile = described(answers={200: binary_response(sorted(set(CONTENT_TYPES.values())), "The export file.")})


async def provide_read_db(state: State) -> AsyncGenerator[AsyncSession, None]:
    database: Database = state.database
    async with database.transaction("GET") as session:
        yield session


ReadDB: TypeAlias = NamedDependency[AsyncSession]


class ExportLinks(msgspec.Struct):
    code: str
    name: str
    files: dict[str, str]  # file name → URL


class ExportIndex(msgspec.Struct):
    reports: dict[str, str]  # report → what it holds
    formats: list[str]
    desa: list[ExportLinks]


def api_export_url(desa_code: str, berkas: str) -> str:
    return f"{API_PREFIX}/{desa_code}/{berkas}"


def file_response(file: reports.ExportFile) -> Response[bytes]:
    return Response(file.body, media_type=file.content_type,
                    headers={"Content-Disposition": content_disposition(file.name), "Cache-Control": "no-store",
                             "X-Content-Type-Options": "nosniff"})


async def export_index(db: AsyncSession, who: Principal) -> ExportIndex:
    who.require_admin()
    return ExportIndex(
        reports=reports.REPORTS, formats=list(reports.FORMATS),
        desa=[ExportLinks(code, name, {f: api_export_url(code, f) for f in reports.file_names()})
              for code, name in await queries.desa_list(db, who)],
    )


class ExportController(Controller):
    path = "/exports"
    tags = ["exports"]
    dependencies = {"rdb": Provide(provide_read_db)}

    @get("/", operation_id="listExports", summary="The exports of every desa in the admin's scope, as links",
         responses=problems(403))
    async def list_exports(self, request: Caller, rdb: ReadDB) -> ExportIndex:
        return await export_index(rdb, request.user)

    @get("/{desa_code:str}/{berkas:str}", operation_id="getExport",
         summary="One export of one desa, e.g. daftar-gagasan.xlsx or rekap-musyawarah.csv (admin)",
         operation_class=ExportFile, responses=problems(403, 404))
    async def get_export(self, request: Caller, rdb: ReadDB, desa_code: FromPath[str],
                         berkas: FromPath[str]) -> Response[bytes]:
        return file_response(await reports.export(rdb, request.user, desa_code, berkas))


@get("/dashboard", operation_id="getDashboard", tags=["exports"], dependencies={"rdb": Provide(provide_read_db)},
     responses=problems(403),
     summary="Per desa of the admin's scope: submissions by review state, open conflicts, cadres not syncing")
async def get_dashboard(request: Caller, rdb: ReadDB) -> dashboard_service.Dashboard:
    return await dashboard_service.dashboard(rdb, request.user, api_export_url)

