"""The access matrix (both databases, real HTTP): every endpoint of the app × every kind of caller —
anonymous, a cadre of desa A, a cadre of desa B, an admin of kecamatan X (over A and B), an admin of
kecamatan Y, and a revoked device token. Each gets exactly its status; reads that succeed hold rows of
the caller's own region only; writes that are refused store nothing.

The endpoints are read from the app's routes: a new endpoint without a row here fails the test.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.scope import covers
from sync.records import TABLES
from tests.admin.helpers import AdminBrowser
from tests.conftest import GANRA, GEROKGAK, LiveServer, Store
from tests.syncing import Device, mutation

PRINCIPALS = ["anonymous", "cadre_a", "cadre_b", "admin_x", "admin_y", "revoked"]

# Served to anyone, holding no data: the cadres' app (static files, and the two the server fills in with
# the app's version) and the API description.
OPEN = {("GET", "/"), ("GET", "/{file_path:path}"), ("HEAD", "/{file_path:path}"), ("GET", "/js/shell.js"),
        ("GET", "/sw.js"), ("GET", "/schema"), ("GET", "/schema/{path:str}"), ("GET", "/schema/openapi.json")}


def app_endpoints() -> list[tuple[str, str]]:
    """(method, path) of every route of the app; the admin mount as ("*", "/admin")."""
    out = []
    for route in create_app().routes:
        methods = set(getattr(route, "methods", ())) - {"OPTIONS"} or {"*"}
        out += [(m, route.path) for m in sorted(methods)]
    return sorted(out)


@dataclass
class Who:
    name: str
    scope: str | None = None  # None: reaches no region
    account: tuple[str, str] | None = None
    token: str | None = None
    admin_session: AdminBrowser | None = None

    def api(self, server: LiveServer) -> httpx.Client:
        return server.client(self.token)

    def fresh_token(self, server: LiveServer) -> str | None:
        """A token of its own for one request that may revoke it (log-out): never the shared one."""
        if self.name == "revoked":
            return _revoked_token(server, self.account)
        return server.login(*self.account, device="matrix-once") if self.account else None

    def site(self, server: LiveServer) -> httpx.Client:
        """For the office's pages: an admin's browser session, the device token for anyone else."""
        return self.admin_session.http if self.admin_session else self.api(server)


def _revoked_token(server: LiveServer, account: tuple[str, str] | None) -> str:
    assert account is not None
    token = server.login(*account, device="matrix-revoked")
    with server.client(token) as c:
        assert c.post("/api/auth/logout").status_code == 204
    return token


@dataclass
class World:
    server: LiveServer
    store: Store
    who: dict[str, Who]
    desa_a: str  # the desa of cadre A, desa B of cadre B (kecamatan X), desa Y of kecamatan Y: made for this test
    desa_b: str
    desa_y: str
    cadre_a: Device
    cadre_a2: Device  # a second phone of cadre A: to make conflicts
    record_a: str  # a pengkajian of desa A
    record_b: str  # a pengkajian of desa B
    record_y: str  # a pengkajian of a desa of kecamatan Y
    photo_a: str  # sha256 of a photo uploaded in desa A

    def conflict_a(self) -> str:
        """A new open conflict in desa A."""
        record = uuid.uuid4()
        self.cadre_a.push(mutation("create", "pengkajian", record, {"jenis": "masalah", "uraian": "Air"}))
        self.cadre_a.push(mutation("update", "pengkajian", record, {"uraian": "Air bersih"}, base_version=1))
        [r] = self.cadre_a2.push(mutation("update", "pengkajian", record, {"uraian": "Air keruh"}, base_version=1))
        assert r["status"] == "conflict", r
        return r["conflict_id"]


@pytest.fixture(scope="module")
def world(server: LiveServer, store: Store) -> Iterator[World]:
    desa_a, desa_b, desa_y = store.new_desa(GEROKGAK), store.new_desa(GEROKGAK), store.new_desa(GANRA)
    accounts = {"cadre_a": store.user("kader", desa_a), "cadre_b": store.user("kader", desa_b),
                "admin_x": store.user("admin", GEROKGAK), "admin_y": store.user("admin", GANRA)}
    who = {"anonymous": Who("anonymous")}
    for name, scope in (("cadre_a", desa_a), ("cadre_b", desa_b), ("admin_x", GEROKGAK), ("admin_y", GANRA)):
        who[name] = Who(name, scope, accounts[name], server.login(*accounts[name], device="matrix"))
    revoked_account = store.user("kader", desa_a)
    who["revoked"] = Who("revoked", None, revoked_account, _revoked_token(server, revoked_account))
    for name in ("admin_x", "admin_y"):
        who[name].admin_session = AdminBrowser(server, *accounts[name])
    cadre_a, cadre_b = Device(server, who["cadre_a"].token), Device(server, who["cadre_b"].token)
    cadre_a2 = Device(server, server.login(*accounts["cadre_a"], device="matrix-2"))
    cadre_y = Device(server, server.login(*store.user("kader", desa_y), device="matrix"))
    record_a, record_b, record_y = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert cadre_y.push(mutation("create", "pengkajian", record_y, {"jenis": "masalah", "uraian": "Jalan Y"})
                        )[0]["status"] == "applied"
    assert cadre_a.push(mutation("create", "pengkajian", record_a, {"jenis": "masalah", "uraian": "Jalan A"})
                        )[0]["status"] == "applied"
    assert cadre_b.push(mutation("create", "pengkajian", record_b, {"jenis": "masalah", "uraian": "Jalan B"})
                        )[0]["status"] == "applied"
    photo = b"\xff\xd8\xff\xe0" + os.urandom(32)
    sha = hashlib.sha256(photo).hexdigest()
    with who["cadre_a"].api(server) as c:
        assert c.put(f"/api/attachments/{sha}", content=photo, headers={"content-type": "image/jpeg"}
                     ).status_code == 201
    yield World(server, store, who, desa_a, desa_b, desa_y, cadre_a, cadre_a2, str(record_a), str(record_b),
                str(record_y), sha)
    for name in ("admin_x", "admin_y"):
        who[name].admin_session.close()  # type: ignore[union-attr]


# ---- the rows --------------------------------------------------------------------------------------------------

Probe = Callable[[World, Who], httpx.Response]
Check = Callable[[World, Who, httpx.Response], None]


@dataclass
class Row:
    probe: Probe
    expect: dict[str, int]  # principal -> status
    check: Check | None = None  # for the answers that succeed: what they may contain
    unchanged: Callable[[World], Any] | None = None  # for the refused: what must stay as it was


def everyone(status: int, **others: int) -> dict[str, int]:
    return {p: others.get(p, status) for p in PRINCIPALS}


def signed_in(status: int, **others: int) -> dict[str, int]:
    """``status`` for the four live accounts; 401 for anonymous and the revoked token."""
    return everyone(status, anonymous=401, revoked=401, **others)


def in_scope(who: Who, code: str | None) -> bool:
    return code is not None and who.scope is not None and covers(who.scope, code)


def only_own_desa_list(w: World, who: Who, r: httpx.Response) -> None:
    codes = [d["code"] for d in r.json()]
    assert codes and all(in_scope(who, c) for c in codes), codes
    assert (w.desa_a in codes) == in_scope(who, w.desa_a)


def rows_of_desa_a(w: World, who: Who, r: httpx.Response) -> None:
    assert all(row["desa_code"] == w.desa_a for row in r.json())


def pull_check(w: World, who: Who, r: httpx.Response) -> None:
    changes, page = [], r.json()
    with who.api(w.server) as c:
        while True:
            changes += page["changes"]
            if not page["has_more"]:
                break
            page = c.get("/api/sync/pull", params={"cursor": page["next_cursor"], "limit": 1000}).json()
    rows = [ch["row"] for ch in changes if ch["row"]]
    assert rows and all(in_scope(who, row["desa_code"]) for row in rows)
    ids = {ch["record_id"] for ch in changes}
    for record, desa in ((w.record_a, w.desa_a), (w.record_b, w.desa_b), (w.record_y, w.desa_y)):
        assert (record in ids) == in_scope(who, desa), (record, desa)


def me_check(w: World, who: Who, r: httpx.Response) -> None:
    assert r.json()["username"] == who.account[0] and r.json()["wilayah_code"] == who.scope  # type: ignore[index]


def exports_check(w: World, who: Who, r: httpx.Response) -> None:
    codes = [d["code"] for d in r.json()["desa"]]
    assert codes and all(in_scope(who, c) for c in codes)


def dashboard_check(w: World, who: Who, r: httpx.Response) -> None:
    exports_check(w, who, r)
    assert r.json()["scope"] == who.scope


def dasbor_check(w: World, who: Who, r: httpx.Response) -> None:
    codes = set(re.findall(r"/dasbor/ekspor/([\d.]+)/", r.text))
    assert codes and all(in_scope(who, c) for c in codes)


def admin_rows_check(w: World, who: Who, r: httpx.Response) -> None:
    rows = r.json()["rows"]
    assert rows and all(in_scope(who, row["desa_code"]) for row in rows)
    ids = {row["id"] for row in rows}
    assert (w.record_a in ids) == in_scope(who, w.desa_a) and (w.record_y in ids) == in_scope(who, w.desa_y)


def push_check(w: World, who: Who, r: httpx.Response) -> None:
    [result] = r.json()["results"]
    if in_scope(who, w.desa_a):
        assert result["status"] in ("applied", "merged"), result
    else:
        assert (result["status"], result["error_code"]) == ("rejected", "not_found"), result


def record_a_state(w: World) -> Any:
    return w.store.rows("SELECT version, uraian, review_state, penyebab FROM pengkajian WHERE id = :id",
                        id=w.record_a)


def push(w: World, who: Who) -> httpx.Response:
    # An edit of desa A's record: the cadre of A and the admin over it may; the others are out of scope.
    version = w.store.scalar("SELECT version FROM pengkajian WHERE id = :id", id=w.record_a)
    body = {"client_id": str(uuid.uuid4()), "protocol_version": 1, "app_version": "matrix",
            "mutations": [mutation("update", "pengkajian", uuid.UUID(w.record_a),
                                   {"penyebab": f"oleh {who.name} {uuid.uuid4().hex[:6]}"}, base_version=version)]}
    with who.api(w.server) as c:
        return c.post("/api/sync/push", json=body)


def resolve(w: World, who: Who) -> httpx.Response:
    conflict = w.conflict_a()
    with who.api(w.server) as c:
        r = c.post(f"/api/sync/conflicts/{conflict}/resolve", json={"fields": {"uraian": {"pick": "mine"}}})
    resolved = w.store.scalar("SELECT resolved_at FROM conflicts WHERE id = :id", id=conflict)
    assert (resolved is not None) == (r.status_code == 200), (who.name, r.status_code)
    return r


def put_photo(w: World, who: Who) -> httpx.Response:
    photo = b"\x89PNG\r\n\x1a\n" + os.urandom(32)
    sha = hashlib.sha256(photo).hexdigest()
    with who.api(w.server) as c:
        r = c.put(f"/api/attachments/{sha}", content=photo, headers={"content-type": "image/png"})
    stored = list((w.server.log.parent / "attachments").glob(f"*/{sha}"))
    assert [p.parent.name for p in stored] == ([who.scope] if r.status_code == 201 else []), (who.name, stored)
    return r


def logout(w: World, who: Who) -> httpx.Response:
    token = who.fresh_token(w.server)
    with w.server.client(token) as c:
        r = c.post("/api/auth/logout")
        if token and r.status_code == 204:
            assert c.get("/api/auth/me").status_code == 401  # that token, and only it, is revoked
    return r


def login(w: World, who: Who) -> httpx.Response:
    # Public: whoever sends it, a right password gets a token and a wrong one a 401.
    account = w.who["cadre_b"].account
    assert account is not None
    with who.api(w.server) as c:
        wrong = c.post("/api/auth/login", json={"username": account[0], "password": "salah-sekali"})
        assert (wrong.status_code, wrong.json()["code"]) == (401, "auth_invalid_credentials")
        return c.post("/api/auth/login", json={"username": account[0], "password": account[1],
                                               "device_name": "matrix-login"})


def get(path: str | Callable[[World], str], client: str = "api") -> Probe:
    def probe(w: World, who: Who) -> httpx.Response:
        target = path(w) if callable(path) else path
        with who.api(w.server) as c:
            return c.get(target) if client == "api" else who.site(w.server).get(target)

    return probe


def head(path: Callable[[World], str]) -> Probe:
    def probe(w: World, who: Who) -> httpx.Response:
        with who.api(w.server) as c:
            return c.head(path(w))

    return probe


def post(path: str | Callable[[World], str], body: Callable[[World], Any]) -> Probe:
    def probe(w: World, who: Who) -> httpx.Response:
        with who.api(w.server) as c:
            return c.post(path(w) if callable(path) else path, json=body(w))

    return probe


ADMIN_ONLY = {"cadre_a": 403, "cadre_b": 403}
MATRIX: dict[tuple[str, str], Row] = {
    ("GET", "/api/health"): Row(get("/api/health"), everyone(200)),
    ("GET", "/api/health/live"): Row(get("/api/health/live"), everyone(200)),
    ("GET", "/api/health/ready"): Row(get("/api/health/ready"), everyone(200)),
    ("POST", "/api/auth/login"): Row(login, everyone(200)),
    ("POST", "/api/auth/logout"): Row(logout, signed_in(204)),
    ("GET", "/api/auth/me"): Row(get("/api/auth/me"), signed_in(200), me_check),
    ("GET", "/api/desa"): Row(get("/api/desa"), signed_in(200), only_own_desa_list),
    ("GET", "/api/desa/{code:str}/dusun"): Row(get(lambda w: f"/api/desa/{w.desa_a}/dusun"),
                                               signed_in(200, cadre_b=404, admin_y=404), rows_of_desa_a),
    ("POST", "/api/desa/{code:str}/dusun"): Row(
        post(lambda w: f"/api/desa/{w.desa_a}/dusun", lambda w: {"nama": f"Banjar {uuid.uuid4().hex[:6]}"}),
        signed_in(201, cadre_a=403, cadre_b=403, admin_y=404),
        lambda w, who, r: None,
        lambda w: w.store.scalar("SELECT count(*) FROM dusun WHERE desa_code = :d", d=w.desa_a)),
    ("GET", "/api/desa/{code:str}/kader"): Row(get(lambda w: f"/api/desa/{w.desa_a}/kader"),
                                               signed_in(200, cadre_b=404, admin_y=404), rows_of_desa_a),
    ("POST", "/api/sync/push"): Row(push, signed_in(200), push_check, record_a_state),
    ("GET", "/api/sync/pull"): Row(get("/api/sync/pull?limit=1000"), signed_in(200), pull_check),
    ("POST", "/api/sync/conflicts/{conflict_id:uuid}/resolve"): Row(resolve, signed_in(200, cadre_b=404, admin_y=404)),
    ("GET", "/api/sync/records/{table:str}/{record_id:uuid}/history"): Row(
        get(lambda w: f"/api/sync/records/pengkajian/{w.record_a}/history"), signed_in(200, cadre_b=404, admin_y=404),
        lambda w, who, r: None),
    ("POST", "/api/review"): Row(
        post("/api/review", lambda w: {"table": "pengkajian", "ids": [w.record_a], "state": "diverifikasi"}),
        signed_in(200, admin_y=404, **ADMIN_ONLY), None, record_a_state),
    ("GET", "/api/attachments/{sha256:str}"): Row(get(lambda w: f"/api/attachments/{w.photo_a}"),
                                                  signed_in(200, cadre_b=404, admin_y=404)),
    ("HEAD", "/api/attachments/{sha256:str}"): Row(head(lambda w: f"/api/attachments/{w.photo_a}"),
                                                   signed_in(200, cadre_b=404, admin_y=404)),
    ("PUT", "/api/attachments/{sha256:str}"): Row(put_photo, signed_in(201, admin_x=403, admin_y=403)),
    ("GET", "/api/exports"): Row(get("/api/exports"), signed_in(200, **ADMIN_ONLY), exports_check),
    ("GET", "/api/exports/{desa_code:str}/{berkas:str}"): Row(
        get(lambda w: f"/api/exports/{w.desa_a}/daftar-gagasan.csv"), signed_in(200, admin_y=404, **ADMIN_ONLY)),
    ("GET", "/api/dashboard"): Row(get("/api/dashboard"), signed_in(200, **ADMIN_ONLY), dashboard_check),
    # The office: the browser session of an admin; cadres' tokens and anonymous callers are refused.
    ("GET", "/dasbor"): Row(get("/dasbor/", client="site"), signed_in(200, **ADMIN_ONLY), dasbor_check),
    ("GET", "/dasbor/ekspor/{desa_code:str}/{berkas:str}"): Row(
        get(lambda w: f"/dasbor/ekspor/{w.desa_a}/daftar-gagasan.csv", client="site"),
        signed_in(200, admin_y=404, **ADMIN_ONLY)),
    ("*", "/admin"): Row(get("/admin/api/tables/pengkajian/?__page_size=1000", client="site"),
                         everyone(200, anonymous=401, cadre_a=401, cadre_b=401, revoked=401), admin_rows_check),
}


def test_every_endpoint_of_the_app_has_a_row() -> None:
    endpoints = set(app_endpoints()) - OPEN
    assert endpoints == set(MATRIX), {"without a row": endpoints - set(MATRIX),
                                      "no such endpoint": set(MATRIX) - endpoints}


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", sorted(MATRIX), ids=[f"{m} {p}" for m, p in sorted(MATRIX)])
def test_each_caller_gets_exactly_what_it_may(world: World, endpoint: tuple[str, str], principal: str) -> None:
    row, who = MATRIX[endpoint], world.who[principal]
    expected = row.expect[principal]
    before = row.unchanged(world) if row.unchanged else None
    r = row.probe(world, who)
    assert r.status_code == expected, (endpoint, principal, r.status_code, r.text[:300])
    if r.status_code >= 400 and endpoint[1].startswith("/api/") and endpoint[0] != "HEAD":
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] in {401: {"auth_required", "auth_invalid_token"}, 403: {"forbidden"},
                                    404: {"not_found"}}[r.status_code], r.text
    if r.status_code < 300 and row.check:
        row.check(world, who, r)
    refused = r.status_code >= 400 or (endpoint == ("POST", "/api/sync/push") and not in_scope(who, world.desa_a))
    if refused and row.unchanged:
        assert row.unchanged(world) == before, (endpoint, principal)


def test_cadres_cannot_log_in_to_the_office(world: World) -> None:
    for name in ("cadre_a", "cadre_b"):
        with world.server.client() as c:
            c.get("/admin/").raise_for_status()
            c.headers["X-CSRFToken"] = c.cookies["csrftoken"]
            username, password = world.who[name].account  # type: ignore[misc]
            r = c.post("/admin/public/login/", json={"username": username, "password": password})
            assert r.status_code == 401 and "id" not in c.cookies
            assert c.get("/dasbor/").status_code == 401


# ---- resolving a conflict, per table and role --------------------------------------------------------------------

# For every table that can conflict: the fields of a new record, the field both sides then edit, and the
# value typed when settling it. Comments are append-only: they never conflict.
CONFLICTS: dict[str, tuple[dict[str, Any], str, str]] = {
    "dusun": ({"nama": "Banjar Asal"}, "nama", "Banjar Tengah"),
    "kader": ({"nama": "Ni Made Asri", "jenis_kelamin": "P"}, "telepon", "0812000111"),
    "pengkajian": ({"jenis": "masalah", "uraian": "Air"}, "uraian", "Air bersih dan keruh"),
    "musyawarah": ({"jenis": "musyawarah_dusun", "tanggal": "2026-08-17"}, "tempat", "Balai banjar"),
    "kehadiran": ({"nama": "Wayan", "jenis_kelamin": "L"}, "nama", "I Wayan Sudarsa"),
    "usulan": ({"kegiatan": "Sumur"}, "kegiatan", "Sumur bor dusun"),
}


def conflict_on(w: World, table: str) -> tuple[str, str, str]:
    """A new open conflict on ``table`` in desa A, made by two installations of whoever writes that
    table (the admin over A for the tables she keeps, cadre A for the rest). Returns (conflict, record, field)."""
    fields, field, _ = CONFLICTS[table]
    if TABLES[table].admin_only:
        first = Device(w.server, w.who["admin_x"].token)
        second = Device(w.server, w.server.login(*w.who["admin_x"].account, device="matrix-admin-2"))
    else:
        first, second = w.cadre_a, w.cadre_a2
    if table == "kehadiran":
        musyawarah = uuid.uuid4()
        first.push(mutation("create", "musyawarah", musyawarah,
                            {"desa_code": w.desa_a, **CONFLICTS["musyawarah"][0]}))
        fields = {**fields, "musyawarah_id": str(musyawarah)}
    record = uuid.uuid4()
    [r] = first.push(mutation("create", table, record, {"desa_code": w.desa_a, **fields}))
    assert r["status"] == "applied", r
    first.push(mutation("update", table, record, {field: "Versi satu"}, base_version=1))
    [r] = second.push(mutation("update", table, record, {field: "Versi dua"}, base_version=1))
    assert r["status"] == "conflict", r
    return r["conflict_id"], str(record), field


def test_every_table_that_can_conflict_has_a_row() -> None:
    assert set(CONFLICTS) == {name for name, spec in TABLES.items() if not spec.append_only}


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("table", sorted(CONFLICTS))
def test_resolving_obeys_the_write_rules_of_the_table(world: World, table: str, principal: str) -> None:
    """Settling a conflict is a write: only who may push a change of that record may settle it (a cadre
    never the tables the kecamatan keeps), and what she types is stored only when she may."""
    who = world.who[principal]
    conflict, record, field = conflict_on(world, table)
    value = CONFLICTS[table][2]
    body = {"fields": {field: {"pick": "edited", "value": value}}}
    with who.api(world.server) as c:
        r = c.post(f"/api/sync/conflicts/{conflict}/resolve", json=body)
    may = in_scope(who, world.desa_a) and not (TABLES[table].admin_only and who.name.startswith("cadre"))
    refused = 403 if in_scope(who, world.desa_a) else 404
    expected = 200 if may else {"anonymous": 401, "revoked": 401}.get(principal, refused)
    assert r.status_code == expected, (table, principal, r.text[:300])
    if r.status_code != 200:
        assert r.json()["code"] == {401: "auth_invalid_token" if principal == "revoked" else "auth_required",
                                    403: "forbidden", 404: "not_found"}[r.status_code], r.text
    resolved = world.store.scalar("SELECT resolved_at FROM conflicts WHERE id = :id", id=conflict)
    stored = world.store.scalar(f"SELECT {field} FROM {table} WHERE id = :id", id=record)  # noqa: S608
    assert (resolved is not None, stored == value) == (may, may), (table, principal, stored)


def test_a_cadres_pull_offers_no_conflict_she_may_not_settle(world: World) -> None:
    conflicts = {table: conflict_on(world, table)[0] for table in ("dusun", "kader", "pengkajian")}

    def pulled_conflicts(who: Who) -> set[str]:
        changes, cursor = [], None
        with who.api(world.server) as c:
            while True:
                page = c.get("/api/sync/pull", params={"limit": 1000, **({"cursor": cursor} if cursor else {})}).json()
                changes += page["changes"]
                cursor = page["next_cursor"]
                if not page["has_more"]:
                    break
        return {ch["record_id"] for ch in changes if ch["table"] == "conflicts"}

    cadre, admin = pulled_conflicts(world.who["cadre_a"]), pulled_conflicts(world.who["admin_x"])
    assert conflicts["pengkajian"] in cadre and conflicts["pengkajian"] in admin
    assert conflicts["dusun"] not in cadre and conflicts["kader"] not in cadre
    assert conflicts["dusun"] in admin and conflicts["kader"] in admin
