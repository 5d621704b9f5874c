"""The kecamatan dashboard over real HTTP (both databases): the JSON at /api/dashboard and the page at
/dasbor/ behind the piccolo-admin session — counts per desa after pushes, reviews, a conflict and
a cadre who stopped syncing; scope; who may see it.

Counts are compared as differences before/after, in a desa made for this module (Celukan Uji).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import AdminSession, SyncClient, User
from tests.conftest import DESA_GANRA, GANRA, GEROKGAK, LiveServer, Store
from tests.support.database import REGISTER_GANRA, REGISTER_GEROKGAK
from tests.syncing import Device, mutation

NAMA_BERBAHAYA = '<b>Ni Luh "Sari" & Co</b>'


def dashboard(device: Device) -> dict[str, Any]:
    with device.http() as c:
        r = c.get("/api/dashboard")
    assert r.status_code == 200, r.text
    return r.json()


def desa_of(board: dict[str, Any], code: str) -> dict[str, Any]:
    return next(d for d in board["desa"] if d["code"] == code)


def review(admin: Device, table: str, rid: uuid.UUID, state: str, note: str = "") -> None:
    with admin.http() as c:
        r = c.post("/api/review", json={"table": table, "ids": [str(rid)], "state": state, "note": note})
    assert r.status_code == 200, r.text


class World:
    def __init__(self, server: LiveServer, store: Store) -> None:
        self.server, self.store = server, store
        self.desa = store.new_desa(GEROKGAK, "Celukan Uji")
        self.admin_login = store.user("admin", GEROKGAK)
        self.admin = Device(server, server.login(*self.admin_login))
        self.before = desa_of(dashboard(self.admin), self.desa)
        self.rajin = store.user("kader", self.desa)  # syncs today
        self.baru = store.user("kader", self.desa)  # never synced
        self.lama = store.user("kader", self.desa)  # last synced ten days ago
        self.kader = Device(server, server.login(*self.rajin))
        self.kader_lama = Device(server, server.login(*self.lama))
        self.u = [uuid.uuid4() for _ in range(3)]
        self.p, self.m = uuid.uuid4(), uuid.uuid4()
        results = self.kader.push(
            *[mutation("create", "usulan", u, {"kegiatan": f"Usulan {i}", "biaya": 1_000_000 * (i + 1)})
              for i, u in enumerate(self.u)],
            mutation("create", "pengkajian", self.p, {"jenis": "masalah", "uraian": "Abrasi pantai"}),
            mutation("create", "musyawarah", self.m, {"jenis": "musyawarah_dusun", "tanggal": "2026-09-01"}),
        )
        assert {r["status"] for r in results} == {"applied"}
        review(self.admin, "usulan", self.u[0], "diverifikasi")
        review(self.admin, "usulan", self.u[1], "ditolak", "Sudah dibiayai kabupaten")
        review(self.admin, "pengkajian", self.p, "perlu_perbaikan", "Lokasi belum diisi")
        # The same field edited on two phones from version 1: the second becomes a conflict.
        [first] = self.kader.push(mutation("update", "usulan", self.u[2], {"kegiatan": "Usulan 2 (ubah)"},
                                           base_version=1))
        [second] = self.kader_lama.push(mutation("update", "usulan", self.u[2], {"kegiatan": "Usulan dua"},
                                                 base_version=1))
        assert (first["status"], second["status"]) == ("applied", "conflict")
        self.ten_days_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
        lama_id = store.scalar("SELECT id FROM users WHERE username = :u", u=self.lama[0])
        store.run(lambda s: s.execute(sa.update(SyncClient).where(SyncClient.user_id == lama_id)
                                      .values(last_push_at=self.ten_days_ago)))
        store.run(lambda s: s.execute(sa.update(User).where(User.username == self.lama[0])
                                      .values(nama=NAMA_BERBAHAYA)))
        self.after = desa_of(dashboard(self.admin), self.desa)


@pytest.fixture(scope="module")
def world(server: LiveServer, store: Store) -> World:
    return World(server, store)


@pytest.fixture(scope="module")
def browser(server: LiveServer, world: World) -> Iterator[httpx.Client]:
    """The Gerokgak admin logged in to piccolo-admin: holds its session cookie."""
    with server.client() as c:
        c.get("/admin/").raise_for_status()
        c.headers["X-CSRFToken"] = c.cookies["csrftoken"]
        username, password = world.admin_login
        r = c.post("/admin/public/login/", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        yield c


def delta(world: World, *path: str) -> int:
    before: Any = world.before
    after: Any = world.after
    for key in path:
        before, after = before[key], after[key]
    return after - before


# --- JSON ------------------------------------------------------------------------------------------------


def test_counts_by_state_awaiting_review_and_open_conflicts(world: World) -> None:
    assert delta(world, "submissions", "usulan", "diajukan") == 1
    assert delta(world, "submissions", "usulan", "diverifikasi") == 1
    assert delta(world, "submissions", "usulan", "ditolak") == 1
    assert delta(world, "submissions", "pengkajian", "perlu_perbaikan") == 1
    assert delta(world, "submissions", "pengkajian", "diajukan") == 0
    assert delta(world, "submissions", "musyawarah", "diajukan") == 1
    assert delta(world, "by_state", "diajukan") == 2
    assert delta(world, "by_state", "perlu_perbaikan") == 1
    assert delta(world, "awaiting_review") == 2
    assert delta(world, "open_conflicts") == 1
    assert delta(world, "kader_accounts") == 3


def test_cadres_who_have_not_synced_for_a_week(world: World) -> None:
    stale = {k["username"]: k for k in world.after["kader_not_synced"]}
    assert world.baru[0] in stale and stale[world.baru[0]]["last_sync_at"] is None
    assert world.lama[0] in stale and stale[world.lama[0]]["nama"] == NAMA_BERBAHAYA
    last = dt.datetime.fromisoformat(stale[world.lama[0]]["last_sync_at"])
    assert abs(last - world.ten_days_ago) < dt.timedelta(seconds=1)
    assert world.rajin[0] not in stale


def test_the_dashboard_lists_only_the_admins_kecamatan(world: World, server: LiveServer, store: Store) -> None:
    board = dashboard(world.admin)
    assert board["scope"] == GEROKGAK and board["scope_name"] == "Gerokgak" and board["stale_after_days"] == 7
    assert {d["code"] for d in board["desa"]} == store.desa_codes(GEROKGAK) >= REGISTER_GEROKGAK
    assert desa_of(board, world.desa)["exports"]["daftar-gagasan.xlsx"] == (
        f"/api/exports/{world.desa}/daftar-gagasan.xlsx")
    ganra = dashboard(Device(server, server.login(*store.user("admin", GANRA))))
    assert {d["code"] for d in ganra["desa"]} == store.desa_codes(GANRA) >= REGISTER_GANRA
    assert all(k["username"] not in {world.baru[0], world.lama[0]}
               for d in ganra["desa"] for k in d["kader_not_synced"])


def test_a_cadres_token_cannot_reach_the_dashboard(world: World, server: LiveServer) -> None:
    with world.kader.http() as c:
        api = c.get("/api/dashboard")
        page = c.get("/dasbor/")
        download = c.get(f"/dasbor/ekspor/{world.desa}/daftar-gagasan.xlsx")
    assert api.status_code == 403 and api.json()["code"] == "forbidden"
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert download.status_code == 403
    with server.client() as c:
        assert c.get("/dasbor/").status_code == 401
        assert c.get(f"/dasbor/ekspor/{world.desa}/daftar-gagasan.xlsx").status_code == 401
        c.cookies.set("id", "bukan-sesi")
        assert c.get("/dasbor/").status_code == 401


# --- the page --------------------------------------------------------------------------------------------


def page_row(html: str, name: str) -> str:
    match = re.search(rf"<tr><td><strong>{re.escape(name)}</strong>.*?</tr>", html, re.S)
    assert match, name
    return match.group(0)


def test_the_page_shows_the_same_numbers_behind_the_admin_session(browser: httpx.Client, world: World,
                                                                  store: Store) -> None:
    r = browser.get("/dasbor/")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    html = r.text
    assert "Dasbor Kecamatan Gerokgak" in html and '<html lang="id">' in html
    assert "<script" not in html and "http://" not in html and "https://" not in html  # no external assets
    assert len(re.findall(r"<tr><td><strong>", html)) == len(store.desa_codes(GEROKGAK))
    assert "Ganra" not in html and "Belo" not in html
    row = page_row(html, "Celukan Uji")
    numbers = [int(n) for n in re.findall(r'<td class="n">(?:<span[^>]*>)?(\d+)', row)]
    after = world.after
    assert numbers == [after["awaiting_review"], after["by_state"]["perlu_perbaikan"],
                       after["by_state"]["diverifikasi"], after["by_state"]["ditolak"], after["open_conflicts"]]
    assert world.baru[0] in row and world.lama[0] in row and world.rajin[0] not in row
    assert "belum pernah sinkron" in row and "10 hari lalu" in row
    # Everything typed by people is escaped.
    assert NAMA_BERBAHAYA not in html
    assert "&lt;b&gt;Ni Luh &quot;Sari&quot; &amp; Co&lt;/b&gt;" in html


def test_the_page_links_exports_that_download_with_the_session(browser: httpx.Client, world: World,
                                                               server: LiveServer, store: Store) -> None:
    row = page_row(browser.get("/dasbor/").text, "Celukan Uji")
    links = re.findall(r'href="([^"]+)"', row)
    assert f"/dasbor/ekspor/{world.desa}/daftar-gagasan.xlsx" in links
    assert len(links) == 8  # four reports, XLSX and CSV
    r = browser.get(f"/dasbor/ekspor/{world.desa}/daftar-gagasan.xlsx")
    assert r.status_code == 200, r.text
    assert re.fullmatch(rf'attachment; filename="daftar-gagasan-{re.escape(world.desa)}-Celukan-Uji-[\d-]+\.xlsx"',
                        r.headers["content-disposition"])
    ws = openpyxl.load_workbook(io.BytesIO(r.content), data_only=True).active
    names = [row[2] for row in ws.iter_rows(min_row=6, values_only=True)]
    assert names[:-1] == ["Usulan 0", "Usulan 2 (ubah)"]  # the rejected one is left out
    assert browser.get(f"/dasbor/ekspor/{world.desa}/rekap-musyawarah.csv").status_code == 200
    # The session is scoped like the token: Ganra is not found, an unknown file neither.
    assert browser.get(f"/dasbor/ekspor/{DESA_GANRA}/daftar-gagasan.xlsx").status_code == 404
    assert browser.get(f"/dasbor/ekspor/{world.desa}/rahasia.xlsx").status_code == 404


def test_the_admin_sidebar_links_the_dashboard(browser: httpx.Client) -> None:
    r = browser.get("/admin/api/links/")
    assert r.status_code == 200, r.text
    assert r.json()["Dasbor kecamatan"] == "/dasbor/"


def test_an_expired_session_or_a_demoted_admin_is_refused(server: LiveServer, store: Store) -> None:
    username, password = store.user("admin", GEROKGAK)
    with server.client() as c:
        c.get("/admin/").raise_for_status()
        c.headers["X-CSRFToken"] = c.cookies["csrftoken"]
        assert c.post("/admin/public/login/", json={"username": username, "password": password}).status_code == 200
        assert c.get("/dasbor/").status_code == 200
        user_id = store.scalar("SELECT id FROM users WHERE username = :u", u=username)

        async def demote(s: AsyncSession) -> None:
            await s.execute(sa.update(User).where(User.id == user_id).values(role="kader"))

        store.run(demote)
        # A demoted admin's session is no admin session at all, as in the rest of the office.
        assert c.get("/dasbor/").status_code == 401

        async def restore_and_expire(s: AsyncSession) -> None:
            await s.execute(sa.update(User).where(User.id == user_id).values(role="admin"))
            # Naive local time, as Piccolo writes it.
            await s.execute(sa.update(AdminSession).where(AdminSession.user_id == user_id)
                            .values(expiry_date=dt.datetime.now() - dt.timedelta(minutes=1)))

        store.run(restore_and_expire)
        assert c.get("/dasbor/").status_code == 401
