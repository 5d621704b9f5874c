"""Admin writes go through the sync engine's one write path (both databases, real HTTP): a version bump,
a change_seq, history with who and which fields; the cadres' phones pull it; an offline cadre edit of
the same field becomes a conflict both sides see; deletes are tombstones; PUT and read-only tables are
refused; CSRF stays on."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.admin.conftest import Regions
from tests.admin.helpers import AdminBrowser, create, kader_device
from tests.conftest import DESA_GEROKGAK, DESA_PEJARAKAN, GEROKGAK, LiveServer, Store
from tests.syncing import Device, mutation


def pulled(device: Device, table: str, record_id: uuid.UUID) -> list[dict[str, Any]]:
    return [c for c in device.pull_all() if c["table"] == table and c["record_id"] == str(record_id)]


@pytest.fixture(scope="module")
def admin(server: LiveServer, store: Store) -> AdminBrowser:
    return AdminBrowser.new(server, store, GEROKGAK)


@pytest.fixture
def cadre(server: LiveServer, store: Store) -> Device:
    device = kader_device(server, store, DESA_PEJARAKAN)
    device.pull_all()
    return device


def test_an_admin_edit_is_versioned_audited_and_reaches_the_cadres_next_pull(
        admin: AdminBrowser, cadre: Device, store: Store) -> None:
    rid = create(cadre, "usulan", kegiatan="Rabat beton", volume=250, satuan="m", skor_parah=3)
    cadre.pull_all()
    before = admin.row("usulan", rid)
    r = admin.edit("usulan", rid, volume="275", satuan="meter", skor_potensi="2")
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["version"] == before["version"] + 1 and after["change_seq"] > before["change_seq"]
    assert (after["volume"], after["satuan"], after["skor_total"]) == (275, "meter", 5)
    assert after["edited_by_admin"] is True and after["review_state"] == "diajukan"

    history = admin.kantor("GET", f"rekaman/usulan/{rid}/riwayat/").json()
    last = history[-1]
    assert (last["version"], last["op"], last["via"], last["user"]) == (after["version"], "update", "admin",
                                                                         admin.username)
    changes = {c["field"]: [c["old"], c["new"]] for c in last["changes"]}
    assert changes == {"volume": [250, 275], "satuan": ["m", "meter"], "skor_potensi": [None, 2],
                       "skor_total": [3, 5], "edited_by_admin": [False, True]}
    assert store.scalar("SELECT count(*) FROM history WHERE record_id = :r AND via = 'admin'", r=str(rid)) == 1

    [change] = pulled(cadre, "usulan", rid)
    assert change["version"] == after["version"] and change["row"]["volume"] == 275
    assert change["row"]["edited_by_admin"] is True


def test_an_admin_edit_and_an_offline_cadre_edit_of_the_same_field_become_a_conflict_both_see(
        admin: AdminBrowser, cadre: Device) -> None:
    rid = create(cadre, "pengkajian", jenis="masalah", uraian="Saluran tersumbat", penyebab="Sampah")
    cadre.pull_all()  # she has version 1, then goes offline
    assert admin.edit("pengkajian", rid, uraian="Saluran irigasi tersumbat").status_code == 200
    [result] = cadre.push(mutation("update", "pengkajian", rid, {"uraian": "Saluran tersumbat total",
                                                                 "penyebab": "Sampah plastik"}, base_version=1))
    assert result["status"] == "conflict" and result["conflict_fields"] == ["uraian"]

    # The cadre sees it on her next pull: the record keeps the admin's value, flagged, plus the conflict.
    changes = cadre.pull_all()
    row = next(c["row"] for c in changes if c["record_id"] == str(rid))
    assert (row["uraian"], row["penyebab"], row["has_conflict"]) == ("Saluran irigasi tersumbat", "Sampah plastik",
                                                                     True)
    [held] = [c["row"] for c in changes if c["table"] == "conflicts" and c["record_id"] == result["conflict_id"]]
    assert held["field_values"]["uraian"] == {"base": "Saluran tersumbat", "mine": "Saluran tersumbat total",
                                              "theirs": "Saluran irigasi tersumbat"}

    # The admin sees it in the conflict queue, with base, the cadre's value and the current value.
    queue = {c["id"]: c for c in admin.kantor("GET", "konflik/").json()}
    item = queue[result["conflict_id"]]
    assert (item["table"], item["record_id"], item["kind"]) == ("pengkajian", str(rid), "field")
    assert item["fields"] == [{"name": "uraian", "base": "Saluran tersumbat", "mine": "Saluran tersumbat total",
                               "theirs": "Saluran irigasi tersumbat", "current": "Saluran irigasi tersumbat"}]

    # The admin resolves it by the same rules as a cadre: a new version, audited; the cadre pulls it.
    r = admin.kantor("POST", f"konflik/{result['conflict_id']}/selesaikan/",
                     json={"fields": {"uraian": {"pick": "edited", "value": "Saluran irigasi tersumbat total"}}})
    assert r.status_code == 200, r.text
    assert result["conflict_id"] not in {c["id"] for c in admin.kantor("GET", "konflik/").json()}
    again = admin.kantor("POST", f"konflik/{result['conflict_id']}/selesaikan/",
                         json={"fields": {"uraian": {"pick": "mine"}}})
    assert again.status_code == 409
    after = cadre.pull_all()
    row = next(c["row"] for c in after if c["record_id"] == str(rid))
    assert (row["uraian"], row["has_conflict"]) == ("Saluran irigasi tersumbat total", False)
    resolved = next(c["row"] for c in after if c["record_id"] == result["conflict_id"])
    assert resolved["resolved_at"] is not None
    last = admin.kantor("GET", f"rekaman/pengkajian/{rid}/riwayat/").json()[-1]
    assert (last["op"], last["user"]) == ("resolve", admin.username)


def test_a_stale_admin_form_does_not_overwrite_a_cadres_newer_change(admin: AdminBrowser, cadre: Device) -> None:
    rid = create(cadre, "usulan", kegiatan="Sumur bor", lokasi="Banjar Kaja")
    form = admin.form("usulan", rid)  # the admin opens the edit form at version 1
    [pushed] = cadre.push(mutation("update", "usulan", rid, {"kegiatan": "Sumur bor dalam"}, base_version=1))
    assert pushed["status"] == "applied"
    # She saves what she had, with one field of her own changed: only that field is her change.
    r = admin.http.patch(f"/admin/api/tables/usulan/{rid}/", json={**form, "lokasi": "Banjar Kelod"})
    assert r.status_code == 200, r.text
    assert (r.json()["kegiatan"], r.json()["lokasi"]) == ("Sumur bor dalam", "Banjar Kelod")
    # Had she changed the same field, her value would wait in the conflict queue instead.
    r = admin.http.patch(f"/admin/api/tables/usulan/{rid}/", json={**form, "kegiatan": "Sumur"})
    assert r.status_code == 409 and "konflik" in r.json()["detail"]
    assert admin.row("usulan", rid)["kegiatan"] == "Sumur bor dalam"
    assert any(c["record_id"] == str(rid) and c["fields"][0]["mine"] == "Sumur"
               for c in admin.kantor("GET", "konflik/").json())


def test_admin_creates_are_version_one_records_the_desa_pulls(admin: AdminBrowser, cadre: Device) -> None:
    dusun = admin.create("dusun", desa_code=DESA_PEJARAKAN, nama="Banjar Dinas Kelod", sebutan="Banjar Dinas")
    # As piccolo-admin's add form posts it: every field as text, server fields with their defaults.
    rid = admin.create("pengkajian", desa_code=DESA_PEJARAKAN, jenis="potensi", uraian="Mata air", bidang_code="2.3",
                       dusun_id=str(dusun), skor_parah="", latitude="-8.17", review_state="diverifikasi",
                       version="7", has_conflict="true", edited_by_admin="true", id=str(uuid.uuid4()))
    row = admin.row("pengkajian", rid)
    assert (row["version"], row["review_state"], row["has_conflict"], row["edited_by_admin"]) == (
        1, "diajukan", False, False)
    assert (row["latitude"], row["skor_parah"], row["dusun_id"]) == (-8.17, None, str(dusun))
    changes = cadre.pull_all()
    assert {(c["table"], c["record_id"]) for c in changes} >= {("dusun", str(dusun)), ("pengkajian", str(rid))}
    [first] = admin.kantor("GET", f"rekaman/pengkajian/{rid}/riwayat/").json()
    assert (first["op"], first["via"], first["user"]) == ("create", "admin", admin.username)


def test_invalid_values_are_refused_with_the_reason(admin: AdminBrowser, cadre: Device) -> None:
    rid = create(cadre, "usulan", kegiatan="Drainase")
    for changes, word in (({"skor_parah": "99"}, "skor_parah"), ({"desa_code": DESA_GEROKGAK}, "desa_code"),
                          ({"jenis_kelamin": "X", "biaya": "banyak"}, "biaya"), ({"kegiatan": ""}, "kegiatan")):
        r = admin.edit("usulan", rid, **changes)
        assert r.status_code == 400 and word in r.json()["detail"], (changes, r.text)
    r = admin.http.post("/admin/api/tables/pengkajian/", json={"desa_code": DESA_PEJARAKAN, "jenis": "masalah"})
    assert r.status_code == 400 and "uraian" in r.json()["detail"]
    # A code of the right shape that is not in the bidang list: the database refuses, an answer not a crash.
    r = admin.edit("usulan", rid, bidang_code="5.99")
    assert r.status_code == 400, r.text
    assert admin.row("usulan", rid)["version"] == 1


def test_a_delete_is_a_tombstone_phones_pull(admin: AdminBrowser, cadre: Device, store: Store) -> None:
    rid = create(cadre, "kehadiran", musyawarah_id=str(create(cadre, "musyawarah", jenis="musyawarah_dusun",
                                                                 tanggal="2026-09-09")), nama="Made", jenis_kelamin="L")
    cadre.pull_all()
    r = admin.http.delete(f"/admin/api/tables/kehadiran/{rid}/")
    assert r.status_code == 204
    assert admin.http.delete(f"/admin/api/tables/kehadiran/{rid}/").status_code == 204  # already: nothing changes
    row = admin.row("kehadiran", rid)  # still stored, as a tombstone
    assert row["deleted_at"] is not None and row["version"] == 2
    [change] = pulled(cadre, "kehadiran", rid)
    assert change["deleted"] is True and change["row"] is None
    assert admin.edit("kehadiran", rid, nama="Made Sudah Dihapus").status_code == 409
    assert store.scalar("SELECT count(*) FROM kehadiran WHERE id = :r", r=str(rid)) == 1


def test_put_read_only_tables_and_comment_edits_are_refused(admin: AdminBrowser, cadre: Device) -> None:
    rid = create(cadre, "usulan", kegiatan="Posyandu")
    form = admin.form("usulan", rid)
    r = admin.http.put(f"/admin/api/tables/usulan/{rid}/", json={**form, "kegiatan": "diganti"})
    assert r.status_code == 405 and "PATCH" in r.json()["detail"]
    history_id = admin.rows("history", record_id=str(rid))[0]["id"]
    assert admin.http.patch(f"/admin/api/tables/history/{history_id}/", json={"op": "delete"}).status_code == 405
    assert admin.http.delete(f"/admin/api/tables/history/{history_id}/").status_code == 405
    assert admin.http.patch(f"/admin/api/tables/wilayah/{DESA_PEJARAKAN}/", json={"name": "x"}).status_code == 405
    comment = create(cadre, "komentar", record_table="usulan", record_id=str(rid), isi="Perlu cek lokasi")
    assert admin.edit("komentar", comment, isi="diubah").status_code == 405  # comments only grow
    assert admin.row("usulan", rid)["kegiatan"] == "Posyandu" and admin.row("usulan", rid)["version"] == 1


def test_review_state_edited_in_the_form_is_a_review_with_its_rules(admin: AdminBrowser, cadre: Device) -> None:
    rid = create(cadre, "usulan", kegiatan="Pelatihan tenun")
    # piccolo-admin's bulk update sends one field: a state without the required note is refused.
    r = admin.http.patch(f"/admin/api/tables/usulan/{rid}/", json={"review_state": "perlu_perbaikan"})
    assert r.status_code == 400 and "note" in r.json()["detail"].lower()
    r = admin.edit("usulan", rid, review_state="perlu_perbaikan", review_note="Lengkapi volume dan satuan")
    assert r.status_code == 200, r.text
    row = r.json()
    assert (row["review_state"], row["review_note"], row["edited_by_admin"]) == (
        "perlu_perbaikan", "Lengkapi volume dan satuan", False)
    [change] = pulled(cadre, "usulan", rid)
    assert change["row"]["review_state"] == "perlu_perbaikan"
    assert change["row"]["review_note"] == "Lengkapi volume dan satuan"


def test_admin_writes_without_the_csrf_token_are_refused(server: LiveServer, admin: AdminBrowser,
                                                         cadre: Device) -> None:
    rid = create(cadre, "usulan", kegiatan="Jalan usaha tani")
    with server.client() as c:
        c.cookies.update(admin.http.cookies)  # the session and the CSRF cookie, but no header
        assert c.get(f"/admin/api/tables/usulan/{rid}/").status_code == 200  # reads need no token
        assert c.patch(f"/admin/api/tables/usulan/{rid}/", json={"kegiatan": "x"}).status_code == 403
        assert c.delete(f"/admin/api/tables/usulan/{rid}/").status_code == 403
        created = c.post("/admin/api/tables/usulan/", json={"desa_code": DESA_PEJARAKAN, "kegiatan": "x"})
        assert created.status_code == 403
        wrong = {"X-CSRFToken": "bukan-tokennya"}
        assert c.patch(f"/admin/api/tables/usulan/{rid}/", json={"kegiatan": "x"}, headers=wrong).status_code == 403
        r = c.post("/admin/kantor/api/tinjauan/", json={"table": "usulan", "ids": [str(rid)], "state": "diverifikasi"})
        assert r.status_code == 403
        # A page's form without its csrftoken field is refused too.
        r = c.post("/admin/kantor/api/tinjauan/", data={"table": "usulan", "ids": str(rid), "state": "diverifikasi"})
        assert r.status_code == 403
    row = admin.row("usulan", rid)
    assert (row["kegiatan"], row["version"], row["deleted_at"], row["review_state"]) == (
        "Jalan usaha tani", 1, None, "diajukan")


def test_writes_are_scoped_for_the_regions_fixture_too(regions: Regions) -> None:
    """The shared setting: each region's conflict was made by an admin edit and a cadre's offline edit."""
    for region in (regions.gerokgak, regions.ganra):
        row = region.admin.row("usulan", region.ids["usulan"])
        assert row["has_conflict"] is True and row["edited_by_admin"] is True


def test_saving_twice_from_the_same_open_edit_page_is_no_conflict_with_herself(
        admin: AdminBrowser, cadre: Device) -> None:
    rid = create(cadre, "usulan", kegiatan="Balai banjar", satuan="unit", lokasi="Kaja")
    form = admin.form("usulan", rid)  # the page keeps this, version 1, after each save
    first = admin.http.patch(f"/admin/api/tables/usulan/{rid}/", json={**form, "kegiatan": "Balai banjar baru"})
    assert first.status_code == 200, first.text
    # Meanwhile the cadre changes another field; then the admin saves again from the same page.
    [pushed] = cadre.push(mutation("update", "usulan", rid, {"lokasi": "Kelod"}, base_version=2))
    assert pushed["status"] == "applied"
    second = admin.http.patch(f"/admin/api/tables/usulan/{rid}/", json={
        **form, "kegiatan": "Balai banjar baru 2 lantai", "satuan": "gedung"})
    assert second.status_code == 200, second.text
    row = second.json()
    assert (row["kegiatan"], row["satuan"], row["lokasi"], row["has_conflict"]) == (
        "Balai banjar baru 2 lantai", "gedung", "Kelod", False)
