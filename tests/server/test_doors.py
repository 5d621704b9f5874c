"""No door writes a synced row except through the engine's mutation path (``apply_mutation``).

Every door — a phone's push, the admin's dusun endpoint, the office's forms (create, edit, delete) and
the demo seed — leaves the same marks: a change number, one history entry per version naming the mutation
and the client it came from, and the fields the engine derives (score totals). A rule of the engine then
holds at every door: a NUL character, refused in a push, is refused at the dusun endpoint and the office.
Both databases.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.db.engine import make_engine, make_sessionmaker
from server.db.migrate import upgrade
from server.demo import seed_demo
from tests.admin.helpers import AdminBrowser, create, kader_device
from tests.conftest import DESA_PEJARAKAN, GEROKGAK, LiveServer, Store, postgres_database
from tests.syncing import Device, mutation

SYNCED = ("dusun", "kader", "pengkajian", "musyawarah", "kehadiran", "usulan", "komentar")


def marks(store: Store, table: str, record_id: uuid.UUID) -> tuple[Any, list[Any]]:
    """(the row's version and change number, its history entries in version order)."""
    row = store.rows(f"SELECT version, change_seq FROM {table} WHERE id = :i", i=str(record_id))[0]
    history = store.rows("SELECT version, op, via, mutation_id, client_id, change_seq FROM history "
                         "WHERE table_name = :t AND record_id = :i ORDER BY version", t=table, i=str(record_id))
    return row, history


def assert_through_the_engine(store: Store, table: str, record_id: uuid.UUID, via: str) -> None:
    (version, change_seq), history = marks(store, table, record_id)
    assert change_seq > 0
    assert [h.version for h in history] == list(range(1, version + 1)), history
    assert history[-1].change_seq == change_seq
    for h in history:
        assert h.via == via and h.mutation_id is not None and h.client_id is not None, h


@pytest.fixture(scope="module")
def admin(server: LiveServer, store: Store) -> Iterator[AdminBrowser]:
    browser = AdminBrowser.new(server, store, GEROKGAK)
    yield browser
    browser.close()


@pytest.fixture
def cadre(server: LiveServer, store: Store) -> Device:
    return kader_device(server, store, DESA_PEJARAKAN)


def test_a_phones_push_is_a_mutation(cadre: Device, store: Store) -> None:
    rid = create(cadre, "usulan", kegiatan="Rabat beton", skor_parah=3, skor_sering=4)
    [result] = cadre.push(mutation("update", "usulan", rid, {"satuan": "m"}, base_version=1))
    assert result["status"] == "applied"
    assert_through_the_engine(store, "usulan", rid, "sync")
    assert store.scalar("SELECT skor_total FROM usulan WHERE id = :i", i=str(rid)) == 7


def test_the_dusun_endpoint_is_a_mutation(server: LiveServer, store: Store, admin: AdminBrowser) -> None:
    token = server.login(admin.username, admin.password)
    with server.client(token) as c:
        r = c.post(f"/api/desa/{DESA_PEJARAKAN}/dusun", json={"nama": f"Banjar {uuid.uuid4().hex[:6]}"})
    assert r.status_code == 201, r.text
    assert r.json()["sebutan"] == "Dusun"
    assert_through_the_engine(store, "dusun", uuid.UUID(r.json()["id"]), "admin")


def test_the_offices_create_edit_and_delete_are_mutations(admin: AdminBrowser, store: Store) -> None:
    rid = admin.create("kader", desa_code=DESA_PEJARAKAN, nama="Kader Pintu", jenis_kelamin="P")
    assert admin.edit("kader", rid, telepon="0812").status_code == 200
    assert admin.http.delete(f"/admin/api/tables/kader/{rid}/").status_code in (200, 204)
    assert_through_the_engine(store, "kader", rid, "admin")
    assert store.scalar("SELECT deleted_at IS NOT NULL FROM kader WHERE id = :i", i=str(rid))


def test_saving_an_open_office_page_twice_is_no_conflict_with_herself(admin: AdminBrowser, cadre: Device,
                                                                      store: Store) -> None:
    rid = create(cadre, "usulan", kegiatan="Jalan usaha tani")
    form = admin.form("usulan", rid)  # loaded at version 1, kept open after each save
    for satuan in ("m", "meter"):
        r = admin.http.patch(f"/admin/api/tables/usulan/{rid}/", json={**form, "satuan": satuan})
        assert r.status_code == 200, r.text
    assert store.scalar("SELECT count(*) FROM conflicts WHERE record_id = :i", i=str(rid)) == 0
    assert store.scalar("SELECT satuan FROM usulan WHERE id = :i", i=str(rid)) == "meter"


@pytest.mark.parametrize("door", ["push", "dusun endpoint", "office"])
def test_the_engines_field_rule_holds_at_every_door(server: LiveServer, store: Store, admin: AdminBrowser,
                                                    cadre: Device, door: str) -> None:
    before = store.scalar("SELECT count(*) FROM history")
    if door == "push":
        [result] = cadre.push(mutation("create", "pengkajian", uuid.uuid4(), {"jenis": "masalah", "uraian": "a\x00b"}))
        assert (result["status"], result["error_code"]) == ("rejected", "invalid_fields")
    elif door == "dusun endpoint":
        with server.client(server.login(admin.username, admin.password)) as c:
            r = c.post(f"/api/desa/{DESA_PEJARAKAN}/dusun", json={"nama": "Banjar\x00Kaja"})
        assert (r.status_code, r.json()["code"]) == (400, "invalid_fields")
    else:
        r = admin.http.post("/admin/api/tables/dusun/", json={"desa_code": DESA_PEJARAKAN, "nama": "Banjar\x00Kaja"})
        assert r.status_code == 400 and r.json()["code"] == "invalid_fields", r.text
    assert store.scalar("SELECT count(*) FROM history") == before


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}"
    else:
        with postgres_database("kader_doors") as url:
            yield url


def test_the_demo_seed_is_mutations(empty_url: str, tmp_path: Path) -> None:
    upgrade(empty_url)
    store = Store(empty_url)

    async def seed() -> None:
        engine = make_engine(empty_url)
        try:
            async with make_sessionmaker(engine)() as session:
                await seed_demo(session, tmp_path)
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(seed())
    for table in SYNCED:
        rows = store.rows(f"SELECT id FROM {table}")
        if table != "komentar":
            assert rows, f"the demo has no {table}"
        for (rid,) in rows:
            assert_through_the_engine(store, table, uuid.UUID(str(rid)), "demo")
    totals = store.rows("SELECT skor_total, skor_dirasakan + skor_parah + skor_pendapatan + skor_sering + skor_potensi "
                        "FROM usulan")
    assert totals and all(total == expected for total, expected in totals)
