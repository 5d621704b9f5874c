"""Talking to the admin as its screens do: a session cookie from /admin/public/login/, the CSRF cookie
sent back as the X-CSRFToken header, and edit forms that post every field as text (piccolo-admin's
edit page does that)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import LiveServer, Store
from tests.syncing import Device, mutation


class AdminBrowser:
    """One admin logged in to /admin/ in a browser."""

    def __init__(self, server: LiveServer, username: str, password: str) -> None:
        self.username, self.password = username, password
        self.http = server.client()
        self.http.get("/admin/").raise_for_status()
        self.csrf = self.http.cookies["csrftoken"]
        self.http.headers["X-CSRFToken"] = self.csrf
        r = self.http.post("/admin/public/login/", json={"username": username, "password": password})
        assert r.status_code == 200, r.text

    @classmethod
    def new(cls, server: LiveServer, store: Store, scope: str) -> AdminBrowser:
        return cls(server, *store.user("admin", scope))

    def close(self) -> None:
        self.http.close()

    def rows(self, table: str, **params: Any) -> list[dict[str, Any]]:
        r = self.http.get(f"/admin/api/tables/{table}/", params={"__page_size": 1000, **params})
        assert r.status_code == 200, r.text
        return r.json()["rows"]

    def row(self, table: str, record_id: Any) -> dict[str, Any]:
        r = self.http.get(f"/admin/api/tables/{table}/{record_id}/")
        assert r.status_code == 200, r.text
        return r.json()

    def form(self, table: str, record_id: Any) -> dict[str, Any]:
        """The edit form as piccolo-admin posts it: every column but the key, as text (empty: null)."""
        return {k: None if v is None else str(v) for k, v in self.row(table, record_id).items() if k != "id"}

    def edit(self, table: str, record_id: Any, **changes: Any) -> httpx.Response:
        """Open the edit form, change some fields, save (a PATCH with every field)."""
        form = self.form(table, record_id)
        form.update({k: v if v is None or isinstance(v, str) else str(v) for k, v in changes.items()})
        return self.http.patch(f"/admin/api/tables/{table}/{record_id}/", json=form)

    def create(self, table: str, **values: Any) -> uuid.UUID:
        r = self.http.post(f"/admin/api/tables/{table}/", json=values)
        assert r.status_code == 201, r.text
        return uuid.UUID(r.json()[0]["id"])

    def kantor(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"/admin/kantor/api/{path}", **kwargs)


def kader_device(server: LiveServer, store: Store, desa: str) -> Device:
    username, password = store.user("kader", desa)
    device = Device(server, server.login(username, password))
    device.username, device.password = username, password  # type: ignore[attr-defined]
    return device


def create(device: Device, table: str, **fields: Any) -> uuid.UUID:
    record_id = uuid.uuid4()
    [result] = device.push(mutation("create", table, record_id, fields))
    assert result["status"] == "applied", result
    return record_id


def seed(device: Device, admin: AdminBrowser, desa: str, tag: str) -> dict[str, uuid.UUID]:
    """One record of every synced table in ``desa``: the admin's tables by the admin, the rest by the cadre."""
    ids = {
        "dusun": admin.create("dusun", desa_code=desa, nama=f"Dusun {tag}"),
        "kader": admin.create("kader", desa_code=desa, nama=f"Kader {tag}", jenis_kelamin="P"),
    }
    ids["pengkajian"] = create(device, "pengkajian", jenis="masalah", uraian=f"Pengkajian {tag}",
                               dusun_id=str(ids["dusun"]))
    ids["musyawarah"] = create(device, "musyawarah", jenis="musyawarah_dusun", tanggal="2026-08-17",
                               tempat=f"Balai {tag}")
    ids["kehadiran"] = create(device, "kehadiran", musyawarah_id=str(ids["musyawarah"]), nama=f"Hadir {tag}",
                              jenis_kelamin="L")
    ids["usulan"] = create(device, "usulan", kegiatan=f"Usulan {tag}", pengkajian_id=str(ids["pengkajian"]),
                           biaya=5_000_000)
    ids["komentar"] = create(device, "komentar", record_table="usulan", record_id=str(ids["usulan"]),
                             isi=f"Komentar {tag}")
    return ids


def conflict(device: Device, admin: AdminBrowser, table: str, record_id: uuid.UUID, field: str,
             admin_value: Any, cadre_value: Any) -> dict[str, Any]:
    """The admin edits ``field`` while the cadre edits it offline from the version she had: her push
    becomes a conflict. Returns the push result."""
    base = admin.row(table, record_id)["version"]
    r = admin.edit(table, record_id, **{field: admin_value})
    assert r.status_code == 200, r.text
    [result] = device.push(mutation("update", table, record_id, {field: cadre_value}, base_version=base))
    assert result["status"] == "conflict", result
    return result
