"""The office pages and their JSON (both databases): review singly and in bulk with a note, reaching the
cadre after sync; a record's history; the conflict queue's form; cadre accounts (create, reset password,
deactivate, devices, last sync, submissions) — and pages that show typed text inert."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from tests.admin.helpers import AdminBrowser, create, kader_device
from tests.conftest import DESA_GEROKGAK, DESA_PEJARAKAN, GEROKGAK, LiveServer, Store
from tests.syncing import Device, mutation


@pytest.fixture(scope="module")
def admin(server: LiveServer, store: Store) -> AdminBrowser:
    return AdminBrowser.new(server, store, GEROKGAK)


@pytest.fixture
def cadre(server: LiveServer, store: Store, desa: str) -> Device:
    """A cadre of a desa made for the test, so its review queue and conflicts are the test's alone."""
    device = kader_device(server, store, desa)
    device.pull_all()
    return device


def test_bulk_review_with_a_note_reaches_the_cadre_and_a_correction_returns_as_diajukan(
        admin: AdminBrowser, cadre: Device, desa: str) -> None:
    ids = [create(cadre, "pengkajian", jenis="masalah", uraian=f"Masalah {i}") for i in range(3)]
    cadre.pull_all()
    r = admin.kantor("POST", "tinjauan/", json={"table": "pengkajian", "ids": [str(i) for i in ids[:2]],
                                                "state": "perlu_perbaikan", "note": "Tambahkan lokasi dan penyebab"})
    assert r.status_code == 200, r.text
    assert {x["review_state"] for x in r.json()} == {"perlu_perbaikan"}
    r = admin.kantor("POST", "tinjauan/", json={"table": "pengkajian", "ids": [str(ids[2])], "state": "diverifikasi"})
    assert r.status_code == 200, r.text
    missing_note = admin.kantor("POST", "tinjauan/", json={"table": "pengkajian", "ids": [str(ids[2])],
                                                           "state": "ditolak", "note": " "})
    assert missing_note.status_code == 400

    changes = cadre.pull_all()
    rows = {c["record_id"]: c["row"] for c in changes if c["table"] == "pengkajian"}
    for rid in ids[:2]:
        assert (rows[str(rid)]["review_state"], rows[str(rid)]["review_note"]) == (
            "perlu_perbaikan", "Tambahkan lokasi dan penyebab")
    assert rows[str(ids[2])]["review_state"] == "diverifikasi"
    notes = [c["row"]["isi"] for c in changes if c["table"] == "komentar" and c["row"]["record_id"] == str(ids[0])]
    assert notes == ["[perlu_perbaikan] Tambahkan lokasi dan penyebab"]
    page = admin.http.get(f"/admin/kantor/rekaman/pengkajian/{ids[0]}/").text  # the comment, in words
    assert "perlu perbaikan: Tambahkan lokasi dan penyebab" in page and "[perlu_perbaikan]" not in page

    # She corrects the record on her phone: it comes back for review.
    version = rows[str(ids[0])]["version"]
    [result] = cadre.push(mutation("update", "pengkajian", ids[0], {"lokasi": "Banjar Kaja"}, base_version=version))
    assert result["status"] == "applied"
    queue = admin.kantor("GET", "tinjauan/", params={"tabel": "pengkajian", "status": "diajukan",
                                                     "desa": desa}).json()
    assert str(ids[0]) in {i["id"] for i in queue} and str(ids[1]) not in {i["id"] for i in queue}
    history = admin.kantor("GET", f"rekaman/pengkajian/{ids[0]}/riwayat/").json()
    assert [h["op"] for h in history] == ["create", "review", "update"]
    assert {c["field"]: [c["old"], c["new"]] for c in history[1]["changes"]}["review_state"] == [
        "diajukan", "perlu_perbaikan"]
    assert history[1]["user"] == admin.username and history[2]["user"] == cadre.username  # type: ignore[attr-defined]
    assert {c["field"]: [c["old"], c["new"]] for c in history[2]["changes"]}["review_state"] == [
        "perlu_perbaikan", "diajukan"]


def test_review_from_the_page_form_with_the_csrf_field(admin: AdminBrowser, cadre: Device, desa: str) -> None:
    ids = [create(cadre, "usulan", kegiatan=f"Usulan halaman {i}") for i in range(2)]
    page = admin.http.get("/admin/kantor/tinjauan/", params={"tabel": "usulan", "desa": desa})
    assert page.status_code == 200 and "Usulan halaman 0" in page.text
    token = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    assert token is not None and token.group(1) == admin.csrf
    with httpx.Client(base_url=str(admin.http.base_url), cookies=admin.http.cookies) as browser:  # no header
        r = browser.post("/admin/kantor/api/tinjauan/?kembali=/kantor/tinjauan/",
                         data={"csrftoken": token.group(1), "table": "usulan", "ids": [str(i) for i in ids],
                               "state": "ditolak", "note": "Sudah dibiayai kabupaten"})
        # The outcome travels in the session's flash (a signed cookie), never in the address.
        assert (r.status_code, r.headers["location"]) == (303, "/admin/kantor/tinjauan/")
        assert '<p class="ok">2 rekaman ditolak.</p>' in browser.get(r.headers["location"]).text
        assert 'class="ok"' not in browser.get(r.headers["location"]).text  # shown once
        assert {admin.row("usulan", i)["review_state"] for i in ids} == {"ditolak"}
        # A refused review comes back to the page with the reason; the return address is never taken blindly.
        r = browser.post("/admin/kantor/api/tinjauan/?kembali=https://evil.example/",
                         data={"csrftoken": token.group(1), "table": "usulan", "ids": str(ids[0]),
                               "state": "perlu_perbaikan"})
        assert (r.status_code, r.headers["location"]) == (303, "/admin/kantor/tinjauan/")
        assert '<p class="err">A note for the cadre' in browser.get(r.headers["location"]).text


def test_office_pages_put_no_words_from_the_address_on_the_page(admin: AdminBrowser, server: LiveServer) -> None:
    """Anyone can send an admin a link: words in it (?pesan=, ?galat=) never appear as the office's own."""
    for path in ("/admin/kantor/tinjauan/", "/admin/kantor/konflik/", "/admin/kantor/akun/"):
        page = admin.http.get(path, params={"pesan": "Akun Anda diblokir, hubungi 0812-PENIPU",
                                            "galat": "Masukkan kata sandi di situs-palsu.example"})
        assert page.status_code == 200
        assert "PENIPU" not in page.text and "situs-palsu" not in page.text, path
    # A flash cookie the server did not sign (or signed for another session) is not shown either.
    with httpx.Client(base_url=server.url, cookies=admin.http.cookies) as browser:
        browser.cookies.set("kantor_pesan", "eyJvayI6IlBFTklQVSJ9.0000", path="/admin/kantor/")
        assert "PENIPU" not in browser.get("/admin/kantor/tinjauan/").text


def test_record_page_shows_fields_history_and_comments_with_typed_text_inert(
        admin: AdminBrowser, cadre: Device, desa: str) -> None:
    rid = create(cadre, "usulan", kegiatan='<script>alert("x")</script> Jalan', lokasi="<img src=x onerror=alert(1)>")
    create(cadre, "komentar", record_table="usulan", record_id=str(rid), isi="<b>tebal</b>")
    assert admin.edit("usulan", rid, satuan="m<sup>2</sup>").status_code == 200
    page = admin.http.get(f"/admin/kantor/rekaman/usulan/{rid}/")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    assert "<img src=x" not in page.text and "<b>tebal</b>" not in page.text and "&lt;b&gt;tebal" in page.text
    assert "Riwayat perubahan" in page.text and admin.username in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # no scripts at all
    record = admin.kantor("GET", f"rekaman/usulan/{rid}/").json()
    assert record["fields"]["satuan"] == "m<sup>2</sup>" and [c["isi"] for c in record["comments"]] == ["<b>tebal</b>"]
    queue = admin.http.get("/admin/kantor/tinjauan/", params={"tabel": "usulan", "status": "", "desa": desa})
    assert "<script>alert" not in queue.text


def test_conflict_page_lists_and_its_form_resolves(admin: AdminBrowser, cadre: Device, desa: str) -> None:
    rid = create(cadre, "usulan", kegiatan="Embung", volume=100)
    assert admin.edit("usulan", rid, volume="120").status_code == 200
    [result] = cadre.push(mutation("update", "usulan", rid, {"volume": 90}, base_version=1))
    page = admin.http.get("/admin/kantor/konflik/", params={"desa": desa})
    assert page.status_code == 200 and result["conflict_id"] in page.text and "Embung" in page.text
    with httpx.Client(base_url=str(admin.http.base_url), cookies=admin.http.cookies) as browser:
        r = browser.post(f"/admin/kantor/api/konflik/{result['conflict_id']}/selesaikan/?kembali=/kantor/konflik/",
                         data={"csrftoken": admin.csrf, "pick:volume": "edited", "value:volume": "105.5"})
    assert (r.status_code, r.headers["location"]) == (303, "/admin/kantor/konflik/")
    row = admin.row("usulan", rid)
    assert (row["volume"], row["has_conflict"]) == (105.5, False)


def test_delete_versus_edit_conflicts_are_resolved_with_an_action(admin: AdminBrowser, cadre: Device) -> None:
    rid = create(cadre, "pengkajian", jenis="potensi", uraian="Kebun kelapa")
    assert admin.http.delete(f"/admin/api/tables/pengkajian/{rid}/").status_code == 204
    [result] = cadre.push(mutation("update", "pengkajian", rid, {"uraian": "Kebun kelapa 2 ha"}, base_version=1))
    assert result["status"] == "conflict"
    item = next(c for c in admin.kantor("GET", "konflik/").json() if c["id"] == result["conflict_id"])
    assert item["kind"] == "edit_deleted" and item["record_deleted"] is True
    r = admin.kantor("POST", f"konflik/{result['conflict_id']}/selesaikan/", json={"action": "keep"})
    assert r.status_code == 200, r.text
    row = admin.row("pengkajian", rid)
    assert (row["deleted_at"], row["uraian"]) == (None, "Kebun kelapa 2 ha")


def test_cadre_accounts_create_list_reset_deactivate_and_revoke(admin: AdminBrowser, server: LiveServer) -> None:
    username = f"ni.made@kader-baru {uuid.uuid4().hex[:6]}"  # any character a username may hold
    r = admin.kantor("POST", "akun/", json={"username": username, "password": "rahasia-awal", "nama": "Ni Made Sari",
                                            "desa_code": DESA_GEROKGAK})
    assert r.status_code == 201, r.text
    assert admin.kantor("POST", "akun/", json={"username": username, "password": "rahasia-awal",
                                               "desa_code": DESA_GEROKGAK}).status_code == 409
    assert admin.kantor("POST", "akun/", json={"username": f"{username}-2", "password": "pendek",
                                               "desa_code": DESA_GEROKGAK}).status_code == 400
    assert admin.kantor("POST", "akun/", json={"username": f"{username}-3", "password": "rahasia-awal",
                                               "desa_code": GEROKGAK}).status_code == 400  # a kecamatan, not a desa
    phone = Device(server, server.login(username, "rahasia-awal", device="HP Sari"))
    laptop = Device(server, server.login(username, "rahasia-awal", device="Laptop desa"))
    create(phone, "pengkajian", jenis="masalah", uraian="Kiriman pertama")
    create(phone, "usulan", kegiatan="Kiriman kedua")
    phone.pull_all()

    account = next(a for a in admin.kantor("GET", "akun/").json() if a["username"] == username)
    assert (account["nama"], account["desa_code"], account["desa_name"], account["active"]) == (
        "Ni Made Sari", DESA_GEROKGAK, "Gerokgak", True)
    assert account["submissions_total"] == 2 and account["submissions"]["usulan"] == 1
    assert account["last_push_at"] is not None
    assert [d["name"] for d in account["devices"]] == ["HP Sari", "Laptop desa"]
    page = admin.http.get("/admin/kantor/akun/")
    assert page.status_code == 200 and username in page.text and "HP Sari" in page.text

    # Revoke one device: its token stops working, the other's does not.
    laptop_id = account["devices"][1]["id"]
    assert admin.kantor("POST", f"akun/{username}/perangkat/cabut/", json={"device_id": laptop_id}).status_code == 200
    with laptop.http() as c:
        assert c.get("/api/sync/pull").status_code == 401
    phone.pull_all()

    # Reset the password: the old one no longer logs in.
    assert admin.kantor("POST", f"akun/{username}/kata-sandi/", json={"password": "rahasia-baru"}).status_code == 200
    with server.client() as c:
        assert c.post("/api/auth/login", json={"username": username, "password": "rahasia-awal",
                                               "device_name": "x"}).status_code == 401
    server.login(username, "rahasia-baru")

    # Deactivate: every device stops at once and she cannot log in; reactivating needs a new log-in.
    assert admin.kantor("POST", f"akun/{username}/nonaktifkan/", json={}).status_code == 200
    with phone.http() as c:
        assert c.get("/api/sync/pull").status_code == 401
    with server.client() as c:
        assert c.post("/api/auth/login", json={"username": username, "password": "rahasia-baru",
                                               "device_name": "x"}).status_code == 401
    assert admin.kantor("POST", f"akun/{username}/aktifkan/", json={}).status_code == 200
    with phone.http() as c:
        assert c.get("/api/sync/pull").status_code == 401  # revoked on deactivation
    server.login(username, "rahasia-baru")
    account = next(a for a in admin.kantor("GET", "akun/").json() if a["username"] == username)
    assert account["active"] is True and all(d["revoked_at"] for d in account["devices"][:2])


def test_a_password_reset_in_the_office_signs_her_phones_out_unless_the_admin_keeps_them(
        admin: AdminBrowser, server: LiveServer, store: Store) -> None:
    """A reset is done because a password is lost or known to others: by default her device tokens are
    revoked with it (her phones must log in with the new password); the admin may choose to keep them."""
    username, password = store.user("kader", store.new_desa(GEROKGAK))
    phone = Device(server, server.login(username, password, device="HP lama"))
    # The page's form, as the admin sends it with the box left ticked.
    page = admin.http.get("/admin/kantor/akun/").text
    assert 'name="cabut_perangkat" value="ya" checked' in page
    r = admin.http.post(f"/admin/kantor/api/akun/{username}/kata-sandi/?kembali=/kantor/akun/",
                        data={"csrftoken": admin.csrf, "password": "rahasia-baru-1",
                              "cabut_perangkat": ["tidak", "ya"]})
    assert r.status_code == 303, r.text
    with phone.http() as c:
        assert c.get("/api/sync/pull").status_code == 401
    # The box unticked (only the hidden "tidak" is sent): her phone stays signed in.
    phone = Device(server, server.login(username, "rahasia-baru-1", device="HP baru"))
    r = admin.http.post(f"/admin/kantor/api/akun/{username}/kata-sandi/?kembali=/kantor/akun/",
                        data={"csrftoken": admin.csrf, "password": "rahasia-baru-2", "cabut_perangkat": "tidak"})
    assert r.status_code == 303, r.text
    with phone.http() as c:
        assert c.get("/api/sync/pull").status_code == 200
    # JSON: revoking is the default too.
    assert admin.kantor("POST", f"akun/{username}/kata-sandi/", json={"password": "rahasia-baru-3"}).status_code == 200
    with phone.http() as c:
        assert c.get("/api/sync/pull").status_code == 401
    assert store.scalar("SELECT count(*) FROM devices d JOIN users u ON u.id = d.user_id "
                        "WHERE u.username = :u AND d.revoked_at IS NULL", u=username) == 0


@pytest.mark.parametrize("form", [False, True], ids=["json", "page form"])
def test_the_office_limits_a_review_note_as_the_api_does(admin: AdminBrowser, cadre: Device, store: Store,
                                                         form: bool) -> None:
    rid = create(cadre, "pengkajian", jenis="masalah", uraian="Catatan panjang")
    before = store.rows("SELECT version, review_state, review_note FROM pengkajian WHERE id = :i",
                        i=rid if store.url.startswith("postgresql") else str(rid))
    for note in ("x" * 5_001, "ada\x00nul"):
        body = {"table": "pengkajian", "ids": [str(rid)], "state": "perlu_perbaikan", "note": note}
        if form:
            r = admin.http.post("/admin/kantor/api/tinjauan/?kembali=/kantor/tinjauan/",
                                data={**body, "csrftoken": admin.csrf})
            assert r.status_code == 303, r.text
            page = admin.http.get(r.headers["location"])
            assert 'class="err">Catatan tinjauan' in page.text, page.text[-800:]
        else:
            r = admin.kantor("POST", "tinjauan/", json=body)
            assert (r.status_code, r.json()["code"]) == (400, "invalid_fields"), r.text[:300]
    after = store.rows("SELECT version, review_state, review_note FROM pengkajian WHERE id = :i",
                       i=rid if store.url.startswith("postgresql") else str(rid))
    assert after == before
    ok = admin.kantor("POST", "tinjauan/", json={"table": "pengkajian", "ids": [str(rid)], "state": "perlu_perbaikan",
                                                 "note": "x" * 5_000})
    assert ok.status_code == 200, ok.text[:300]


def test_admin_accounts_are_not_managed_as_cadres(admin: AdminBrowser, store: Store) -> None:
    other_admin, _ = store.user("admin", GEROKGAK)
    assert other_admin not in {a["username"] for a in admin.kantor("GET", "akun/").json()}
    for action in ("kata-sandi/", "nonaktifkan/", "perangkat/cabut/"):
        r = admin.kantor("POST", f"akun/{other_admin}/{action}", json={"password": "rahasia-baru"})
        assert r.status_code == 404, action
    # The office makes cadre accounts only, whatever the request says.
    name = f"bukan-admin-{uuid.uuid4().hex[:6]}"
    r = admin.kantor("POST", "akun/", json={"username": name, "password": "rahasia-awal",
                                            "desa_code": DESA_PEJARAKAN, "role": "admin"})
    assert r.status_code == 201, r.text
    assert store.scalar("SELECT role FROM users WHERE username = :u", u=name) == "kader"


def test_pages_answer_in_indonesian_and_need_a_session(admin: AdminBrowser, server: LiveServer) -> None:
    for path in ("/admin/kantor/tinjauan/", "/admin/kantor/konflik/", "/admin/kantor/akun/"):
        page = admin.http.get(path)
        assert page.status_code == 200 and '<html lang="id">' in page.text, path
    with server.client() as anonymous:
        r = anonymous.get("/admin/kantor/tinjauan/")
        assert r.status_code == 303 and r.headers["location"] == "/admin/"
        assert anonymous.get("/admin/kantor/api/konflik/").status_code == 401
    translations = admin.http.get("/admin/public/translations/").json()
    assert translations["default_language_code"] == "id"
    assert {t["language_code"] for t in translations["translations"]} == {"id", "en"}
    assert admin.http.get("/admin/public/translations/id/").json()["translations"]["Save"] == "Simpan"
    schema = admin.http.get("/admin/api/tables/usulan/schema/").json()
    assert schema["properties"]["review_state"]["title"] == "Status tinjauan"
    assert "RKPDes" in schema["extra"]["help_text"]
    links = admin.http.get("/admin/api/links/").json()
    assert links["Antrean konflik"] == "kantor/konflik/" and links["Akun kader"] == "kantor/akun/"


def test_any_record_can_be_opened_with_its_history_by_table_and_id(admin: AdminBrowser, cadre: Device) -> None:
    mid = create(cadre, "musyawarah", jenis="musyawarah_dusun", tanggal="2026-10-01")
    line = create(cadre, "kehadiran", musyawarah_id=str(mid), nama="Ketut", jenis_kelamin="L")
    r = admin.http.get("/admin/kantor/rekaman/", params={"tabel": "kehadiran", "id": str(line)})
    assert r.status_code == 303 and r.headers["location"] == f"/admin/kantor/rekaman/kehadiran/{line}/"
    page = admin.http.get(r.headers["location"])
    assert page.status_code == 200 and "Ketut" in page.text and "dibuat" in page.text
    unnamed = create(cadre, "kehadiran", musyawarah_id=str(mid), jenis_kelamin="P")  # a tally line: no name
    page = admin.http.get(f"/admin/kantor/rekaman/kehadiran/{unnamed}/")
    assert page.status_code == 200 and "Kehadiran: (tanpa nama) · P" in page.text
    assert admin.http.get("/admin/kantor/rekaman/", params={"tabel": "users", "id": str(line)}).status_code == 404
    assert admin.http.get("/admin/kantor/rekaman/", params={"tabel": "kehadiran", "id": "x"}).status_code == 404
