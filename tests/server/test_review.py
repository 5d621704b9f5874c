"""Review: the admin's state and note travel to the cadre; her correction sends the record back."""

from __future__ import annotations

import uuid

from tests.conftest import DESA_GANRA, DESA_GEROKGAK, GANRA, GEROKGAK, LiveServer, Store
from tests.syncing import Device, mutation


def _setup(server: LiveServer, store: Store) -> tuple[Device, Device, uuid.UUID]:
    kader = Device(server, server.login(*store.user("kader", DESA_GEROKGAK)))
    admin = Device(server, server.login(*store.user("admin", GEROKGAK)))
    rid = uuid.uuid4()
    [r] = kader.push(mutation("create", "usulan", rid, {"kegiatan": "Sumur bor", "volume": 1, "satuan": "unit"}))
    assert r["status"] == "applied"
    return kader, admin, rid


def review(device: Device, body: dict) -> object:
    with device.http() as c:
        return c.post("/api/review", json=body)


def test_perlu_perbaikan_and_its_note_reach_the_cadre_and_her_fix_resubmits(server: LiveServer,
                                                                            store: Store) -> None:
    kader, admin, rid = _setup(server, store)
    kader.pull_all()
    r = review(admin, {"table": "usulan", "ids": [str(rid)], "state": "perlu_perbaikan",
                       "note": "Volume belum jelas, mohon dicek"})
    assert r.status_code == 200, r.text
    assert r.json() == [{"record_id": str(rid), "version": 2, "review_state": "perlu_perbaikan"}]
    changes = kader.pull_all()
    row = next(c["row"] for c in changes if c["record_id"] == str(rid))
    assert (row["review_state"], row["review_note"]) == ("perlu_perbaikan", "Volume belum jelas, mohon dicek")
    assert any(c["table"] == "komentar" and c["row"]["record_id"] == str(rid) for c in changes)
    [fix] = kader.push(mutation("update", "usulan", rid, {"volume": 2}, base_version=2))
    assert fix["status"] == "applied"
    row = next(c["row"] for c in kader.pull_all() if c["record_id"] == str(rid))
    assert row["review_state"] == "diajukan" and row["volume"] == 2
    with kader.http() as c:
        ops = [h["op"] for h in c.get(f"/api/sync/records/usulan/{rid}/history").json()]
    assert ops == ["create", "review", "update"]


def test_bulk_verification_and_the_rules_for_notes(server: LiveServer, store: Store) -> None:
    _, admin, a = _setup(server, store)
    _, _, b = _setup(server, store)
    ok = review(admin, {"table": "usulan", "ids": [str(a), str(b)], "state": "diverifikasi"})
    assert ok.status_code == 200 and [x["review_state"] for x in ok.json()] == ["diverifikasi"] * 2
    no_note = review(admin, {"table": "usulan", "ids": [str(a)], "state": "ditolak"})
    assert no_note.status_code == 400 and no_note.json()["code"] == "missing_fields"


def test_cadres_and_other_kecamatan_cannot_review_and_nothing_changes(server: LiveServer, store: Store) -> None:
    kader, _, rid = _setup(server, store)
    other_admin = Device(server, server.login(*store.user("admin", GANRA)))
    assert review(kader, {"table": "usulan", "ids": [str(rid)], "state": "diverifikasi"}).status_code == 403
    r = review(other_admin, {"table": "usulan", "ids": [str(rid)], "state": "diverifikasi"})
    assert r.status_code == 404
    db_id = str(rid) if store.url.startswith("sqlite") else rid
    assert store.scalar("SELECT review_state FROM usulan WHERE id = :i", i=db_id) == "diajukan"
    assert DESA_GANRA.startswith(GANRA)
