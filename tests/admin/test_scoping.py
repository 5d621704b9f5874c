"""Kecamatan scoping on every admin path, through real HTTP (both databases): an admin of Gerokgak gets
nothing of Ganra — not in lists, counts, CSV exports, foreign-key pickers or office pages — and a 404
(never a 500, never a silent 204) for a Ganra row; the same the other way round."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from piccolo.table import Table

from admin.scope import ADMIN, DENIED, AdminWriteRefused
from admin.tables import derive_tables, piccolo_engine
from server.auth.principal import Principal
from server.scope import covers
from sync.vocabulary import Role
from tests.admin.conftest import Region, Regions
from tests.conftest import DESA_GANRA, DESA_GEROKGAK, GANRA

REGION_COLUMN = {"pengkajian": "desa_code", "musyawarah": "desa_code", "kehadiran": "desa_code",
                 "usulan": "desa_code", "komentar": "desa_code", "dusun": "desa_code", "kader": "desa_code",
                 "conflicts": "desa_code", "history": "desa_code", "wilayah": "code"}
WRITABLE = ("pengkajian", "musyawarah", "kehadiran", "usulan", "komentar", "dusun", "kader")


def both(regions: Regions) -> list[tuple[Region, Region]]:
    return [(regions.gerokgak, regions.ganra), (regions.ganra, regions.gerokgak)]


def own_key(region: Region, table: str) -> Any:
    """A key of ``region`` in ``table`` that must be listed (so that an empty list cannot pass)."""
    if table == "conflicts":
        return str(region.conflict_id)
    if table == "wilayah":
        return region.desa
    if table == "history":
        return None
    return str(region.ids[table])


def other_keys(admin_region: Region, other: Region, table: str) -> list[str]:
    """Row keys of the other kecamatan in ``table``, read with that kecamatan's own admin."""
    if table == "history":
        rows = other.admin.rows("history", __visible_fields="id,desa_code")
        return [str(r["id"]) for r in rows][:3]
    return [own_key(other, table)]


@pytest.mark.parametrize("table", list(REGION_COLUMN))
def test_lists_counts_and_csv_export_hold_only_the_admins_kecamatan(regions: Regions, table: str) -> None:
    column = REGION_COLUMN[table]
    for mine, other in both(regions):
        http = mine.admin.http
        # As piccolo-admin's CSV export reads: count, then the rows with readable foreign keys.
        count = http.get(f"/admin/api/tables/{table}/count/").json()["count"]
        rows: list[dict] = []
        for page in range(1, 100):  # every page: other tests of the session write in this kecamatan too
            r = http.get(f"/admin/api/tables/{table}/", params={"__page_size": 1000, "__page": page,
                                                                "__readable": "true", "__order": "-" + column})
            assert r.status_code == 200, r.text
            rows += r.json()["rows"]
            if len(r.json()["rows"]) < 1000:
                break
        assert rows and count == len(rows)
        assert all(covers(mine.scope, row[column]) for row in rows), table
        keys = {str(row["id" if table != "wilayah" else "code"]) for row in rows}
        if own_key(mine, table) is not None:
            assert own_key(mine, table) in keys
        assert not keys & set(other_keys(mine, other, table))


def test_filtering_on_another_kecamatan_finds_nothing(regions: Regions) -> None:
    http = regions.gerokgak.admin.http
    ganra = regions.ganra
    for params in ({"desa_code": DESA_GANRA}, {"desa_code": DESA_GANRA, "desa_code__match": "exact"},
                   {"desa_code": GANRA, "desa_code__match": "starts"}, {"id": str(ganra.ids["pengkajian"])},
                   {"uraian": "Ganra"}):
        assert http.get("/admin/api/tables/pengkajian/", params=params).json()["rows"] == []
        assert http.get("/admin/api/tables/pengkajian/count/", params=params).json()["count"] == 0
    assert http.get("/admin/api/tables/history/", params={"record_id": str(ganra.ids["usulan"])}).json()["rows"] == []
    assert http.get("/admin/api/tables/wilayah/", params={"name": "Ganra"}).json()["rows"] == []


@pytest.mark.parametrize("table", list(REGION_COLUMN))
def test_a_row_of_another_kecamatan_is_not_found_read_edited_or_deleted(regions: Regions, table: str) -> None:
    for mine, other in both(regions):
        http = mine.admin.http
        for key in other_keys(mine, other, table):
            before = other.admin.row(table, key)
            assert http.get(f"/admin/api/tables/{table}/{key}/").status_code == 404
            assert http.get(f"/admin/api/tables/{table}/{key}/", params={"__readable": "true"}).status_code == 404
            patch = http.patch(f"/admin/api/tables/{table}/{key}/", json={"version": str(before.get("version", 1))})
            delete = http.delete(f"/admin/api/tables/{table}/{key}/")
            expected = 404 if table in WRITABLE else 405  # read-only tables refuse the method itself
            assert (patch.status_code, delete.status_code) == (expected, expected), (patch.text, delete.text)
            assert http.put(f"/admin/api/tables/{table}/{key}/", json={}).status_code == 405
            assert other.admin.row(table, key) == before  # untouched


def test_creating_in_another_kecamatan_is_not_found_and_references_must_be_of_the_same_desa(
        regions: Regions) -> None:
    admin, ganra = regions.gerokgak.admin, regions.ganra
    count = admin.http.get("/admin/api/tables/pengkajian/count/").json()["count"]
    r = admin.http.post("/admin/api/tables/pengkajian/", json={"desa_code": DESA_GANRA, "jenis": "masalah",
                                                               "uraian": "menyusup"})
    assert r.status_code == 404, r.text
    r = admin.http.post("/admin/api/tables/dusun/", json={"desa_code": DESA_GANRA, "nama": "menyusup"})
    assert r.status_code == 404, r.text
    r = admin.http.post("/admin/api/tables/pengkajian/", json={
        "desa_code": DESA_GEROKGAK, "jenis": "masalah", "uraian": "dusun orang lain",
        "dusun_id": str(ganra.ids["dusun"])})
    assert r.status_code == 400, r.text
    r = admin.http.post("/admin/api/tables/komentar/", json={
        "desa_code": DESA_GEROKGAK, "record_table": "usulan", "record_id": str(ganra.ids["usulan"]), "isi": "x"})
    assert r.status_code == 400, r.text
    assert admin.http.get("/admin/api/tables/pengkajian/count/").json()["count"] == count
    assert ganra.admin.http.get("/admin/api/tables/dusun/", params={"nama": "menyusup"}).json()["rows"] == []


@pytest.mark.parametrize("table", ["dusun", "musyawarah", "pengkajian", "usulan", "wilayah", "users", "kader"])
def test_foreign_key_pickers_offer_only_the_admins_kecamatan(regions: Regions, table: str) -> None:
    for mine, other in both(regions):
        http = mine.admin.http
        picks = http.get(f"/admin/api/tables/{table}/ids/")
        searched = http.get(f"/admin/api/tables/{table}/ids/", params={"search": "a", "limit": 500})
        assert picks.status_code == searched.status_code == 200, picks.text
        other_name = "Ganra" if other is regions.ganra else "Gerokgak"
        assert http.get(f"/admin/api/tables/{table}/ids/", params={"search": other_name}).json() == {}
        keys = set(picks.json()) | set(searched.json())
        if table == "users":
            assert mine.admin.username in picks.json().values()
            assert other.admin.username not in picks.json().values()
            assert other.kader.username not in searched.json().values()  # type: ignore[attr-defined]
        elif table == "wilayah":
            assert mine.desa in keys and not any(covers(other.scope, k) for k in keys)
        else:
            assert str(mine.ids[table]) in keys and str(other.ids[table]) not in keys


def test_office_endpoints_are_scoped(regions: Regions) -> None:
    admin, ganra = regions.gerokgak.admin, regions.ganra
    gid = ganra.ids["pengkajian"]
    r = admin.kantor("POST", "tinjauan/", json={"table": "pengkajian", "ids": [str(gid)], "state": "ditolak",
                                                "note": "bukan urusanmu"})
    assert r.status_code == 404, r.text
    for path in (f"rekaman/pengkajian/{gid}/", f"rekaman/pengkajian/{gid}/riwayat/"):
        assert admin.kantor("GET", path).status_code == 404
    assert admin.http.get(f"/admin/kantor/rekaman/pengkajian/{gid}/").status_code == 404
    listed = admin.kantor("GET", "tinjauan/", params={"tabel": "pengkajian"}).json()
    assert listed and all(covers(regions.gerokgak.scope, i["desa_code"]) for i in listed)
    # Its own desa's queue (the whole queue may be longer than one list: others write there too).
    own = admin.kantor("GET", "tinjauan/", params={"tabel": "pengkajian", "desa": regions.gerokgak.desa}).json()
    assert str(regions.gerokgak.ids["pengkajian"]) in {i["id"] for i in own}
    # Asking for a desa of another kecamatan gives nothing, not its queue.
    assert admin.kantor("GET", "tinjauan/", params={"tabel": "pengkajian", "desa": ganra.desa}).json() == []

    conflicts = {c["id"] for c in admin.kantor("GET", "konflik/").json()}
    assert str(regions.gerokgak.conflict_id) in conflicts and str(ganra.conflict_id) not in conflicts
    r = admin.kantor("POST", f"konflik/{ganra.conflict_id}/selesaikan/",
                     json={"fields": {"kegiatan": {"pick": "mine"}}})
    assert r.status_code == 404, r.text
    assert str(ganra.conflict_id) in {c["id"] for c in ganra.admin.kantor("GET", "konflik/").json()}

    cadre = ganra.kader.username  # type: ignore[attr-defined]
    accounts = {a["username"] for a in admin.kantor("GET", "akun/").json()}
    assert regions.gerokgak.kader.username in accounts and cadre not in accounts  # type: ignore[attr-defined]
    for action, body in (("kata-sandi/", {"password": "kata-sandi-baru"}), ("nonaktifkan/", {}), ("aktifkan/", {}),
                         ("perangkat/cabut/", {})):
        assert admin.kantor("POST", f"akun/{cadre}/{action}", json=body).status_code == 404, action
    r = admin.kantor("POST", "akun/", json={"username": f"penyusup-{uuid.uuid4().hex[:6]}", "password": "12345678",
                                           "desa_code": DESA_GANRA})
    assert r.status_code == 404, r.text
    # The Ganra cadre still syncs: nothing above touched her account.
    ganra.kader.pull_all()


def test_paths_the_admin_does_not_offer_are_refused(regions: Regions) -> None:
    http = regions.gerokgak.admin.http
    refused = [
        ("GET", "/admin/api/tables/users/", 404), ("GET", "/admin/api/tables/devices/", 404),
        ("GET", "/admin/api/tables/admin_sessions/", 404), ("GET", "/admin/api/tables/sync_clients/", 404),
        ("GET", "/admin/api/tables/processed_mutations/count/", 404), ("GET", "/admin/api/tables/users/1/", 404),
        ("GET", "/admin/api/docs/", 404), ("GET", "/admin/api/openapi.json", 404), ("GET", "/admin/public/docs/", 404),
        ("POST", "/admin/api/media/", 404), ("GET", "/admin/api/tables/pengkajian/x/y/", 404),
        ("GET", "/admin/api/tables/pengkajian/%2E%2E/users/", 404), ("GET", "/admin/api/forms/secret/", 404),
        ("GET", "/admin/anything/", 404), ("DELETE", "/admin/api/tables/pengkajian/", 405),
        ("PATCH", "/admin/api/tables/pengkajian/", 405), ("PUT", "/admin/api/tables/pengkajian/", 405),
        ("POST", "/admin/api/tables/wilayah/", 405), ("POST", "/admin/api/tables/history/", 405),
        ("POST", "/admin/api/tables/conflicts/", 405), ("POST", "/admin/api/tables/pengkajian/schema/", 405),
        ("OPTIONS", "/admin/api/tables/pengkajian/", 405),
    ]
    for method, path, status in refused:
        r = http.request(method, path, json={} if method in ("POST", "PATCH", "PUT") else None)
        assert r.status_code == status, (method, path, r.status_code, r.text)


def test_a_malformed_row_id_is_an_error_not_a_crash(regions: Regions) -> None:
    http = regions.gerokgak.admin.http
    for method in ("GET", "PATCH", "DELETE"):
        r = http.request(method, "/admin/api/tables/pengkajian/bukan-uuid/", json={} if method == "PATCH" else None)
        assert r.status_code in (400, 404), (method, r.text)
    assert http.get(f"/admin/api/tables/wilayah/{DESA_GANRA}/").status_code == 404


# --- the Piccolo layer itself ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tables(db_url: str) -> dict[str, type[Table]]:
    return derive_tables(piccolo_engine(db_url))


def admin_of(scope: str) -> Principal:
    return Principal(user_id=1, username="x", role=Role.admin, scope=scope, device_id=0)


def test_derived_tables_scope_every_read_and_refuse_writes_inside_an_admin_request(
        regions: Regions, tables: dict[str, type[Table]]) -> None:
    usulan, wilayah, devices, bidang = tables["usulan"], tables["wilayah"], tables["devices"], tables["bidang"]
    ganra_id = regions.ganra.ids["usulan"]

    async def as_admin(who: Any) -> dict[str, Any]:
        token = ADMIN.set(who)
        try:
            out = {
                "codes": {r["desa_code"] for r in await usulan.select(usulan.desa_code)},
                "count": await usulan.count().where(usulan.id == ganra_id),
                "exists": await usulan.exists().where(usulan.id == ganra_id),
                "objects": await usulan.objects().where(usulan.id == ganra_id),
                "wilayah": await wilayah.count(),
                "devices": await devices.count(),
                "bidang": await bidang.count(),
            }
            for write in (lambda: usulan.update({usulan.kegiatan: "x"}, force=True),
                          lambda: usulan.delete(force=True), lambda: usulan.insert(),
                          lambda: usulan.raw("DELETE FROM usulan")):
                with pytest.raises(AdminWriteRefused):
                    write()
            return out
        finally:
            ADMIN.reset(token)

    gerokgak = asyncio.run(as_admin(admin_of(regions.gerokgak.scope)))
    assert gerokgak["codes"] and all(covers(regions.gerokgak.scope, c) for c in gerokgak["codes"])
    assert (gerokgak["count"], gerokgak["exists"], gerokgak["objects"]) == (0, False, [])
    assert gerokgak["devices"] == 0 and gerokgak["bidang"] > 0  # no rule: nothing; reference data: all
    ganra = asyncio.run(as_admin(admin_of(GANRA)))
    assert (ganra["count"], ganra["exists"], len(ganra["objects"])) == (1, True, 1)
    denied = asyncio.run(as_admin(DENIED))
    assert denied["codes"] == set() and denied["wilayah"] == 0 and denied["count"] == 0
    # Outside an admin request the tables are plain Piccolo tables.
    assert usulan.count().where(usulan.id == ganra_id).run_sync() == 1
