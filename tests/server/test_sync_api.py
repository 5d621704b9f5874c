"""Push and pull over real HTTP on both databases: idempotency, merges, conflicts, scope, resolution."""

from __future__ import annotations

import gzip
import json
import uuid

import pytest

from tests.conftest import DESA_GANRA, DESA_GEROKGAK, DESA_PEJARAKAN, GEROKGAK, LiveServer, Store
from tests.syncing import Device, mutation

MASALAH = {"jenis": "masalah", "uraian": "Jalan dusun tergenang saat hujan", "bidang_code": "2",
           "skor_dirasakan": 5, "skor_parah": 4}


@pytest.fixture
def kader(server: LiveServer, store: Store, desa: str) -> Device:
    """A cadre of a desa made for the test: her pulls hold the test's changes only."""
    return Device(server, server.login(*store.user("kader", desa)))


@pytest.fixture
def kader2(server: LiveServer, store: Store, desa: str) -> Device:
    return Device(server, server.login(*store.user("kader", desa)))


@pytest.fixture
def admin(server: LiveServer, store: Store) -> Device:
    return Device(server, server.login(*store.user("admin", GEROKGAK)))


def created(device: Device, table: str = "pengkajian", changes: dict | None = None) -> uuid.UUID:
    rid = uuid.uuid4()
    [result] = device.push(mutation("create", table, rid, changes or MASALAH))
    assert result["status"] == "applied" and result["version"] == 1, result
    return rid


def test_a_create_is_applied_once_and_pulled_by_the_other_cadre(kader: Device, kader2: Device, desa: str) -> None:
    kader2.pull_all()
    rid = created(kader)
    [change] = [c for c in kader2.pull_all() if c["record_id"] == str(rid)]
    assert change["table"] == "pengkajian" and change["version"] == 1
    assert change["row"]["uraian"] == MASALAH["uraian"] and change["row"]["skor_total"] == 9
    assert change["row"]["desa_code"] == desa and change["row"]["review_state"] == "diajukan"


def test_a_retried_push_changes_nothing_and_answers_the_same(kader: Device, store: Store) -> None:
    batch = [mutation("create", "pengkajian", uuid.uuid4(), MASALAH) for _ in range(3)]
    first = kader.push_raw(batch)
    again = kader.push_raw(batch)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    ids = {f"i{n}": _db_id(store, m["record_id"]) for n, m in enumerate(batch)}
    placeholders = ", ".join(f":{name}" for name in ids)
    assert store.scalar(f"SELECT count(*) FROM history WHERE record_id IN ({placeholders})", **ids) == 3


def _db_id(store: Store, rid: str) -> object:
    return rid if store.url.startswith("sqlite") else uuid.UUID(rid)


def test_edits_of_different_fields_merge(kader: Device, kader2: Device) -> None:
    rid = created(kader)
    [a] = kader.push(mutation("update", "pengkajian", rid, {"penyebab": "Saluran tersumbat"}, base_version=1))
    [b] = kader2.push(mutation("update", "pengkajian", rid, {"lokasi": "Banjar Dinas Celukan"}, base_version=1))
    assert (a["status"], a["version"]) == ("applied", 2)
    assert (b["status"], b["version"]) == ("merged", 3)
    row = [c for c in kader.pull_all() if c["record_id"] == str(rid)][-1]["row"]
    assert (row["penyebab"], row["lokasi"]) == ("Saluran tersumbat", "Banjar Dinas Celukan")


def test_the_same_field_edited_twice_is_a_conflict_nobody_loses(kader: Device, kader2: Device, store: Store) -> None:
    rid = created(kader)
    kader.push(mutation("update", "pengkajian", rid, {"uraian": "Jalan rusak parah"}, base_version=1))
    [r] = kader2.push(mutation("update", "pengkajian", rid, {"uraian": "Jalan berlumpur", "lokasi": "RT 02"},
                               base_version=1))
    assert r["status"] == "conflict" and r["conflict_fields"] == ["uraian"] and r["version"] == 3
    changes = {(c["table"], c["record_id"]): c for c in kader2.pull_all()}
    row = changes[("pengkajian", str(rid))]["row"]
    assert row["uraian"] == "Jalan rusak parah" and row["lokasi"] == "RT 02" and row["has_conflict"] is True
    conflict = changes[("conflicts", r["conflict_id"])]["row"]
    assert conflict["kind"] == "field" and conflict["record_id"] == str(rid)
    assert conflict["field_values"] == {"uraian": {"base": MASALAH["uraian"], "mine": "Jalan berlumpur",
                                                   "theirs": "Jalan rusak parah"}}
    assert conflict["resolved_at"] is None


def test_a_resolved_conflict_is_a_new_audited_version_and_clears_the_flag(kader: Device, kader2: Device) -> None:
    rid = created(kader)
    kader.push(mutation("update", "pengkajian", rid, {"uraian": "Versi A"}, base_version=1))
    [r] = kader2.push(mutation("update", "pengkajian", rid, {"uraian": "Versi B"}, base_version=1))
    with kader2.http() as c:
        res = c.post(f"/api/sync/conflicts/{r['conflict_id']}/resolve",
                     json={"fields": {"uraian": {"pick": "edited", "value": "Versi A dan B"}}})
        assert res.status_code == 200, res.text
        again = c.post(f"/api/sync/conflicts/{r['conflict_id']}/resolve",
                       json={"fields": {"uraian": {"pick": "mine"}}})
        history = c.get(f"/api/sync/records/pengkajian/{rid}/history").json()
    assert res.json()["record"]["uraian"] == "Versi A dan B" and res.json()["record"]["has_conflict"] is False
    assert res.json()["conflict"]["resolved_at"] is not None
    assert again.status_code == 409 and again.json()["code"] == "already_resolved"
    assert [h["op"] for h in history] == ["create", "update", "flag", "resolve"]
    assert history[-1]["changes"]["uraian"] == ["Versi A", "Versi A dan B"]


def test_resolving_needs_a_choice_for_every_conflicting_field(kader: Device, kader2: Device) -> None:
    rid = created(kader)
    kader.push(mutation("update", "pengkajian", rid, {"uraian": "A", "lokasi": "X"}, base_version=1))
    [r] = kader2.push(mutation("update", "pengkajian", rid, {"uraian": "B", "lokasi": "Y"}, base_version=1))
    with kader2.http() as c:
        res = c.post(f"/api/sync/conflicts/{r['conflict_id']}/resolve", json={"fields": {"uraian": {"pick": "mine"}}})
    assert res.status_code == 400 and res.json()["code"] == "missing_fields" and "lokasi" in res.json()["detail"]


def test_an_edit_of_a_deleted_record_is_kept_as_a_conflict(kader: Device, kader2: Device) -> None:
    rid = created(kader)
    [d] = kader.push(mutation("delete", "pengkajian", rid, base_version=1))
    assert (d["status"], d["version"]) == ("applied", 2)
    [e] = kader2.push(mutation("update", "pengkajian", rid, {"penyebab": "Drainase tidak ada"}, base_version=1))
    assert e["status"] == "conflict" and e["conflict_fields"] == ["penyebab"]
    with kader2.http() as c:
        res = c.post(f"/api/sync/conflicts/{e['conflict_id']}/resolve", json={"action": "keep"})
    assert res.status_code == 200, res.text
    assert res.json()["record"]["deleted_at"] is None and res.json()["record"]["penyebab"] == "Drainase tidak ada"


def test_a_delete_of_a_record_edited_meanwhile_is_a_conflict(kader: Device, kader2: Device) -> None:
    rid = created(kader)
    kader.push(mutation("update", "pengkajian", rid, {"penyebab": "Baru"}, base_version=1))
    [d] = kader2.push(mutation("delete", "pengkajian", rid, base_version=1))
    assert d["status"] == "conflict"
    row = [c for c in kader2.pull_all() if c["record_id"] == str(rid)][-1]
    assert row["deleted"] is False and row["row"]["penyebab"] == "Baru"


def test_a_rejected_mutation_does_not_block_the_rest(kader: Device, store: Store) -> None:
    good1, good2 = uuid.uuid4(), uuid.uuid4()
    results = kader.push(
        mutation("create", "pengkajian", good1, MASALAH),
        mutation("create", "tidak_ada", uuid.uuid4(), {}),
        mutation("create", "pengkajian", uuid.uuid4(), {**MASALAH, "skor_parah": "sangat"}),
        mutation("create", "pengkajian", uuid.uuid4(), {"uraian": "tanpa jenis"}),
        mutation("update", "pengkajian", uuid.uuid4(), {"uraian": "tidak ada"}, base_version=1),
        mutation("create", "dusun", uuid.uuid4(), {"nama": "Dusun baru"}),
        mutation("create", "pengkajian", good2, MASALAH),
    )
    assert [r["status"] for r in results] == ["applied"] + ["rejected"] * 5 + ["applied"]
    assert [r.get("error_code") for r in results[1:6]] == [
        "unknown_table", "invalid_fields", "missing_fields", "not_found", "forbidden"]
    assert all(r["reason"] for r in results[1:6])
    assert "skor_parah" in results[2]["reason"]


def test_another_desas_records_are_refused_and_untouched(server: LiveServer, store: Store, kader: Device) -> None:
    other = Device(server, server.login(*store.user("kader", DESA_GANRA)))
    rid = created(other, changes={**MASALAH, "uraian": "Milik Ganra"})
    nowhere = uuid.uuid4()
    # Another desa's record reads exactly as a record that does not exist: nothing tells her it is there.
    for op, changes in (("update", {"uraian": "Diubah dari Gerokgak"}), ("delete", None)):
        [r] = kader.push(mutation(op, "pengkajian", rid, changes, base_version=1))
        [unknown] = kader.push(mutation(op, "pengkajian", nowhere, changes, base_version=1))
        assert (r["status"], r["error_code"]) == ("rejected", "not_found"), r
        assert (unknown["status"], unknown["error_code"]) == ("rejected", "not_found"), unknown
        assert r["reason"].replace(str(rid), "ID") == unknown["reason"].replace(str(nowhere), "ID")
    [r] = kader.push(mutation("create", "pengkajian", uuid.uuid4(), {**MASALAH, "desa_code": DESA_GANRA}))
    assert r["status"] == "rejected" and r["error_code"] == "out_of_scope"
    assert store.scalar("SELECT uraian FROM pengkajian WHERE id = :i", i=_db_id(store, str(rid))) == "Milik Ganra"
    assert all(c["record_id"] != str(rid) for c in kader.pull_all())


def test_references_must_stay_inside_the_desa(server: LiveServer, store: Store, kader: Device) -> None:
    other = Device(server, server.login(*store.user("kader", DESA_GANRA)))
    musy = created(other, "musyawarah", {"jenis": "musyawarah_dusun", "tanggal": "2026-02-10"})
    [r] = kader.push(mutation("create", "kehadiran", uuid.uuid4(),
                              {"musyawarah_id": str(musy), "nama": "Ni Luh Sari", "jenis_kelamin": "P"}))
    assert r["status"] == "rejected" and r["error_code"] == "invalid_reference"


def test_attendance_added_on_two_phones_is_the_union(kader: Device, kader2: Device, store: Store) -> None:
    musy = created(kader, "musyawarah", {"jenis": "musyawarah_dusun", "tanggal": "2026-02-10"})
    lines = [("Made Wirawan", "L"), ("Ni Kadek Ayu", "P"), ("Ketut Suarta", "L")]
    for device, (nama, jk) in zip([kader, kader2, kader], lines, strict=True):
        [r] = device.push(mutation("create", "kehadiran", uuid.uuid4(),
                                   {"musyawarah_id": str(musy), "nama": nama, "jenis_kelamin": jk, "unsur": "KPM"}))
        assert r["status"] == "applied"
    names = {c["row"]["nama"] for c in kader2.pull_all() if c["table"] == "kehadiran"
             and c["row"]["musyawarah_id"] == str(musy)}
    assert names == {n for n, _ in lines}


def test_a_kecamatan_admin_pulls_every_desa_of_it_and_no_other(server: LiveServer, store: Store,
                                                               admin: Device) -> None:
    admin.pull_all()
    pejarakan = Device(server, server.login(*store.user("kader", DESA_PEJARAKAN)))
    ganra = Device(server, server.login(*store.user("kader", DESA_GANRA)))
    mine, theirs = created(pejarakan), created(ganra)
    seen = {c["record_id"] for c in admin.pull_all()}
    assert str(mine) in seen and str(theirs) not in seen


def test_an_admin_creates_in_a_desa_she_names_and_comments_reach_the_cadre(admin: Device, kader: Device,
                                                                          desa: str) -> None:
    rid = created(kader)
    kader.pull_all()
    [r] = admin.push(mutation("create", "komentar", uuid.uuid4(), {"desa_code": desa,
                                                                   "record_table": "pengkajian",
                                                                   "record_id": str(rid), "isi": "Lengkapi lokasi"}))
    assert r["status"] == "applied", r
    [r] = admin.push(mutation("create", "pengkajian", uuid.uuid4(), MASALAH))
    assert r["status"] == "rejected" and r["error_code"] == "missing_fields"
    comments = [c["row"]["isi"] for c in kader.pull_all() if c["table"] == "komentar"]
    assert comments == ["Lengkapi lokasi"]


def test_pull_pages_deliver_every_change_exactly_once(kader: Device, kader2: Device) -> None:
    kader2.pull_all()
    ids = {str(created(kader)) for _ in range(5)}
    received = [c["record_id"] for c in kader2.pull_all(limit=2) if c["table"] == "pengkajian"]
    assert sorted(received) == sorted(ids)


def test_first_pull_brings_reference_data(server: LiveServer, store: Store) -> None:
    kader = Device(server, server.login(*store.user("kader", DESA_GEROKGAK)))
    with kader.http() as c:
        page = c.get("/api/sync/pull", params={"limit": 1}).json()
    assert {"code": "2.3", "nama": "Pekerjaan umum & penataan ruang", "parent_code": "2"} in page["reference"]["bidang"]
    assert page["reference"]["desa"] == [{"code": DESA_GEROKGAK, "name": "Gerokgak", "kind": "desa"}]


def test_a_cursor_from_another_scope_asks_for_a_resync(kader: Device) -> None:
    with kader.http() as c:
        r = c.get("/api/sync/pull", params={"cursor": f"5@{DESA_GANRA}"})
    assert r.status_code == 410 and r.json()["code"] == "resync_required"


def test_an_outdated_protocol_is_told_to_update_and_nothing_is_applied(kader: Device, store: Store) -> None:
    rid = uuid.uuid4()
    r = kader.push_raw([mutation("create", "pengkajian", rid, MASALAH)], protocol_version=99)
    assert r.status_code == 426 and r.json()["code"] == "update_required"
    assert store.scalar("SELECT count(*) FROM pengkajian WHERE id = :i", i=_db_id(store, str(rid))) == 0


def test_unknown_fields_in_the_envelope_are_refused(kader: Device) -> None:
    r = kader.push_raw([], surprise=1)
    assert r.status_code == 400 and "surprise" in r.json()["detail"]


def test_a_gzipped_push_is_accepted_and_a_large_pull_is_gzipped(kader: Device) -> None:
    rid = uuid.uuid4()
    body = {"client_id": str(kader.client_id), "protocol_version": 1, "app_version": "t",
            "mutations": [mutation("create", "pengkajian", rid, {**MASALAH, "penyebab": "x" * 3000})]}
    with kader.http() as c:
        r = c.post("/api/sync/push", content=gzip.compress(json.dumps(body).encode()),
                   headers={"content-type": "application/json", "content-encoding": "gzip"})
        assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied"
        pulled = c.get("/api/sync/pull", headers={"accept-encoding": "gzip"})
    assert pulled.headers.get("content-encoding") == "gzip"


def test_a_client_id_belongs_to_one_account(server: LiveServer, store: Store, kader: Device, desa: str) -> None:
    kader.push()
    thief = Device(server, server.login(*store.user("kader", desa)))
    thief.client_id = kader.client_id
    r = thief.push_raw([])
    assert r.status_code == 403 and r.json()["code"] == "client_mismatch"


def test_a_cadres_correction_sends_a_reviewed_record_back_to_diajukan(kader: Device, store: Store) -> None:
    rid = created(kader)
    store.scalar("UPDATE pengkajian SET review_state = 'perlu_perbaikan' WHERE id = :i RETURNING 1",
                 i=_db_id(store, str(rid)))
    [r] = kader.push(mutation("update", "pengkajian", rid, {"lokasi": "Dekat pura"}, base_version=1))
    assert r["status"] == "applied"
    assert store.scalar("SELECT review_state FROM pengkajian WHERE id = :i", i=_db_id(store, str(rid))) == "diajukan"


def test_a_pull_that_names_its_client_is_remembered_as_its_last_sync(kader: Device, store: Store) -> None:
    with kader.http() as c:
        assert c.get("/api/sync/pull", params={"client_id": str(kader.client_id)}).status_code == 200
    cid = str(kader.client_id) if store.url.startswith("sqlite") else kader.client_id
    assert store.scalar("SELECT last_pull_at FROM sync_clients WHERE id = :c", c=cid) is not None



def test_a_pull_is_not_held_up_by_a_writer_in_progress(kader: Device, store: Store) -> None:
    """Readers must not queue behind a long push: WAL readers on SQLite, MVCC on PostgreSQL."""
    import asyncio

    from sqlalchemy import text

    from server.db.engine import make_engine

    async def pull_while_a_writer_holds_the_lock() -> int:
        engine = make_engine(store.url)  # its transactions begin IMMEDIATE on SQLite: the write lock
        try:
            async with engine.connect() as conn:
                await conn.execute(text("UPDATE sync_counter SET value = value WHERE id = 1"))
                with kader.http() as c:
                    r = await asyncio.to_thread(c.get, "/api/sync/pull", params={"limit": 1}, timeout=10)
                await conn.rollback()
                return r.status_code
        finally:
            await engine.dispose()

    assert asyncio.run(pull_while_a_writer_holds_the_lock()) == 200


def test_two_offline_edits_of_one_field_in_one_push_are_not_a_conflict_with_herself(kader: Device) -> None:
    rid = created(kader)
    results = kader.push(mutation("update", "pengkajian", rid, {"uraian": "Dua"}, base_version=1),
                         mutation("update", "pengkajian", rid, {"uraian": "Tiga"}, base_version=1),
                         mutation("delete", "pengkajian", rid, base_version=1))
    assert [r["status"] for r in results] == ["applied", "applied", "applied"]
    assert [r["version"] for r in results] == [2, 3, 4]


def test_a_musyawarah_with_narasumber_and_keputusan_round_trips(kader: Device) -> None:
    rid = created(kader, "musyawarah", {"jenis": "musyawarah_dusun", "tanggal": "2026-03-01", "jam_mulai": "09:00:00",
                                        "narasumber": [{"nama": "Pak Camat", "unsur": "pemerintah"}],
                                        "keputusan": ["Drainase prioritas 1"]})
    row = next(c["row"] for c in kader.pull_all() if c["record_id"] == str(rid))
    assert row["narasumber"] == [{"nama": "Pak Camat", "unsur": "pemerintah"}]
    assert (row["keputusan"], row["jam_mulai"]) == (["Drainase prioritas 1"], "09:00")


def test_a_comment_is_never_edited_nor_deleted_by_a_cadre_and_an_admin_may_remove_it(
    kader: Device, kader2: Device, admin: Device, store: Store
) -> None:
    """Comments are append-only (docs/sync-protocol.md, "Records"): another cadre's delete, and the
    author's own, are refused like an edit; the kecamatan admin may remove one (moderation)."""
    rid = created(kader)
    comment = uuid.uuid4()
    [r] = kader.push(mutation("create", "komentar", comment,
                              {"record_table": "pengkajian", "record_id": str(rid), "isi": "Sudah dicek"}))
    assert r["status"] == "applied", r
    for device in (kader2, kader):
        [r] = device.push(mutation("delete", "komentar", comment, base_version=1))
        assert (r["status"], r["error_code"]) == ("rejected", "append_only"), r
        [r] = device.push(mutation("update", "komentar", comment, {"isi": "Diganti"}, base_version=1))
        assert (r["status"], r["error_code"]) == ("rejected", "append_only"), r
    row = store.rows("SELECT isi, deleted_at, version FROM komentar WHERE id = :i", i=_db_id(store, str(comment)))
    assert [tuple(x) for x in row] == [("Sudah dicek", None, 1)]
    [r] = admin.push(mutation("delete", "komentar", comment, base_version=1))
    assert r["status"] == "applied", r
    assert store.scalar("SELECT deleted_at FROM komentar WHERE id = :i", i=_db_id(store, str(comment))) is not None


def test_a_mutation_id_reused_by_another_account_is_her_own_new_mutation(
    server: LiveServer, store: Store, kader: Device
) -> None:
    """Stored answers belong to the account that was answered: another cadre who sends a mutation id
    already taken gets her own mutation applied, never the first one's answer (record id, version)."""
    ganra = Device(server, server.login(*store.user("kader", DESA_GANRA)))
    shared = uuid.uuid4()
    mine, hers = uuid.uuid4(), uuid.uuid4()
    [first] = kader.push(mutation("create", "pengkajian", mine, {**MASALAH, "uraian": "Punya Gerokgak"},
                                  mutation_id=shared))
    assert (first["status"], first["record_id"]) == ("applied", str(mine))
    [second] = ganra.push(mutation("create", "pengkajian", hers, {**MASALAH, "uraian": "Punya Ganra"},
                                   mutation_id=shared))
    assert (second["status"], second["record_id"]) == ("applied", str(hers)), second
    assert store.scalar("SELECT uraian FROM pengkajian WHERE id = :i", i=_db_id(store, str(hers))) == "Punya Ganra"
    assert store.scalar("SELECT uraian FROM pengkajian WHERE id = :i", i=_db_id(store, str(mine))) == "Punya Gerokgak"
    # A retry of either, from the same installation, is answered again and writes nothing.
    [again] = ganra.push(mutation("create", "pengkajian", hers, {**MASALAH, "uraian": "Punya Ganra"},
                                  mutation_id=shared))
    assert again == second
    # The same account on another installation (unsent data carried over by file) is answered too.
    other_phone = Device(server, kader.token)
    [carried] = other_phone.push(mutation("create", "pengkajian", mine, {**MASALAH, "uraian": "Punya Gerokgak"},
                                          mutation_id=shared))
    assert carried == first
    assert store.scalar("SELECT count(*) FROM history WHERE record_id = :i", i=_db_id(store, str(mine))) == 1
    assert store.scalar("SELECT count(*) FROM history WHERE record_id = :i", i=_db_id(store, str(hers))) == 1


def test_a_value_typed_to_settle_a_conflict_must_reference_a_record_of_the_same_desa(
    kader: Device, kader2: Device, admin: Device, store: Store, desa: str
) -> None:
    """Settling a conflict obeys the rules of a push: a dusun of another desa is refused as it would be
    in a push (``invalid_reference``), and nothing is stored."""
    dusun = {}
    for name, where in (("kaja", desa), ("kelod", desa), ("lain", DESA_PEJARAKAN)):
        dusun[name] = uuid.uuid4()
        [r] = admin.push(mutation("create", "dusun", dusun[name], {"desa_code": where, "nama": f"Banjar {name}"}))
        assert r["status"] == "applied", r
    rid = created(kader)
    kader.push(mutation("update", "pengkajian", rid, {"dusun_id": str(dusun["kaja"])}, base_version=1))
    [r] = kader2.push(mutation("update", "pengkajian", rid, {"dusun_id": str(dusun["kelod"])}, base_version=1))
    assert r["status"] == "conflict", r
    with kader.http() as c:
        bad = c.post(f"/api/sync/conflicts/{r['conflict_id']}/resolve",
                     json={"fields": {"dusun_id": {"pick": "edited", "value": str(dusun["lain"])}}})
        assert (bad.status_code, bad.json()["code"]) == (400, "invalid_reference"), bad.text
        conflict = _db_id(store, r["conflict_id"])
        assert store.scalar("SELECT resolved_at FROM conflicts WHERE id = :i", i=conflict) is None
        assert store.scalar("SELECT dusun_id FROM pengkajian WHERE id = :i", i=_db_id(store, str(rid))) \
            in (str(dusun["kaja"]), dusun["kaja"])
        good = c.post(f"/api/sync/conflicts/{r['conflict_id']}/resolve",
                      json={"fields": {"dusun_id": {"pick": "edited", "value": str(dusun["kelod"])}}})
        assert good.status_code == 200, good.text
        assert good.json()["record"]["dusun_id"] == str(dusun["kelod"])
