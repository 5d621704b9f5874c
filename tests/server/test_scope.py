"""Scope: a cadre reaches only her desa; an admin only her kecamatan (or kabupaten)."""

from __future__ import annotations

import pytest

from tests.conftest import DESA_GANRA, DESA_GEROKGAK, DESA_PEJARAKAN, GANRA, GEROKGAK, LiveServer, Store
from tests.support.database import REGISTER_GANRA, REGISTER_GEROKGAK


@pytest.fixture(scope="module")
def tokens(server: LiveServer, store: Store) -> dict[str, str]:
    accounts = {
        "kader_gerokgak": ("kader", DESA_GEROKGAK),
        "kader_ganra": ("kader", DESA_GANRA),
        "admin_gerokgak": ("admin", GEROKGAK),
        "admin_ganra": ("admin", GANRA),
        "admin_buleleng": ("admin", "51.08"),
    }
    return {name: server.login(*store.user(role, code)) for name, (role, code) in accounts.items()}


def test_a_cadre_lists_only_her_own_desa(server: LiveServer, tokens: dict[str, str]) -> None:
    with server.client(tokens["kader_gerokgak"]) as c:
        assert [d["code"] for d in c.get("/api/desa").json()] == [DESA_GEROKGAK]


def test_a_kecamatan_admin_lists_every_desa_of_her_kecamatan_and_nothing_else(
    server: LiveServer, store: Store, tokens: dict[str, str]
) -> None:
    # Every desa of the kecamatan the database holds: the register's 14, and any a test made.
    with server.client(tokens["admin_gerokgak"]) as c:
        codes = [d["code"] for d in c.get("/api/desa").json()]
    assert len(codes) == len(set(codes)) and set(codes) == store.desa_codes(GEROKGAK) >= REGISTER_GEROKGAK
    with server.client(tokens["admin_ganra"]) as c:
        assert {d["code"] for d in c.get("/api/desa").json()} == store.desa_codes(GANRA) >= REGISTER_GANRA


def test_a_kabupaten_admin_reaches_the_kecamatan_below_it(server: LiveServer, tokens: dict[str, str]) -> None:
    with server.client(tokens["admin_buleleng"]) as c:
        assert c.get(f"/api/desa/{DESA_PEJARAKAN}/dusun").status_code == 200
        assert c.get(f"/api/desa/{DESA_GANRA}/dusun").status_code == 404


@pytest.mark.parametrize("path", ["dusun", "kader"])
def test_a_cadre_asking_for_another_desa_gets_404(server: LiveServer, tokens: dict[str, str], path: str) -> None:
    with server.client(tokens["kader_gerokgak"]) as c:
        assert c.get(f"/api/desa/{DESA_GEROKGAK}/{path}").status_code == 200
        for other in (DESA_PEJARAKAN, DESA_GANRA):
            r = c.get(f"/api/desa/{other}/{path}")
            assert r.status_code == 404 and r.json()["code"] == "not_found"


@pytest.mark.parametrize("path", ["dusun", "kader"])
def test_an_admin_of_gerokgak_cannot_read_ganra(server: LiveServer, tokens: dict[str, str], path: str) -> None:
    with server.client(tokens["admin_gerokgak"]) as c:
        assert c.get(f"/api/desa/{DESA_PEJARAKAN}/{path}").status_code == 200
        assert c.get(f"/api/desa/{DESA_GANRA}/{path}").status_code == 404


def test_an_admin_cannot_write_into_another_kecamatan_and_nothing_is_stored(
    server: LiveServer, store: Store, tokens: dict[str, str]
) -> None:
    before = store.scalar("SELECT count(*) FROM dusun")
    with server.client(tokens["admin_gerokgak"]) as c:
        r = c.post(f"/api/desa/{DESA_GANRA}/dusun", json={"nama": "Dusun Penyusup"})
    assert r.status_code == 404
    assert store.scalar("SELECT count(*) FROM dusun") == before


def test_a_cadre_may_not_define_dusun(server: LiveServer, store: Store, tokens: dict[str, str]) -> None:
    before = store.scalar("SELECT count(*) FROM dusun")
    with server.client(tokens["kader_gerokgak"]) as c:
        r = c.post(f"/api/desa/{DESA_GEROKGAK}/dusun", json={"nama": "Banjar Dinas Baru"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert store.scalar("SELECT count(*) FROM dusun") == before


def test_an_admin_adds_a_dusun_that_her_cadre_then_sees(server: LiveServer, tokens: dict[str, str]) -> None:
    with server.client(tokens["admin_gerokgak"]) as c:
        r = c.post(f"/api/desa/{DESA_GEROKGAK}/dusun", json={"nama": "Celukan Bawang", "sebutan": "Banjar Dinas"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["version"] == 1 and created["desa_code"] == DESA_GEROKGAK
    with server.client(tokens["kader_gerokgak"]) as c:
        assert created in c.get(f"/api/desa/{DESA_GEROKGAK}/dusun").json()
