"""Who may use the admin at all (both databases, real HTTP): cadres — by token, by log-in, or by mixing
their token with cookies — never; an admin's session stops working the moment she is deactivated,
demoted, logged out or expired, on every kind of admin path."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import httpx
import pytest
import sqlalchemy as sa

from server.models import AdminSession, User
from tests.admin.helpers import AdminBrowser, create, kader_device
from tests.conftest import DESA_GEROKGAK, GEROKGAK, LiveServer, Store
from tests.syncing import Device

# One path of each kind: piccolo-admin's read API, the office's JSON, an office page, a table write.
Probe = Callable[[httpx.Client, uuid.UUID], httpx.Response]
PROBES: dict[str, Probe] = {
    "list": lambda c, rid: c.get("/admin/api/tables/usulan/"),
    "detail": lambda c, rid: c.get(f"/admin/api/tables/usulan/{rid}/"),
    "pickers": lambda c, rid: c.get("/admin/api/tables/users/ids/"),
    "office json": lambda c, rid: c.get("/admin/kantor/api/konflik/"),
    "office page": lambda c, rid: c.get("/admin/kantor/akun/"),
    "edit": lambda c, rid: c.patch(f"/admin/api/tables/usulan/{rid}/", json={"kegiatan": "dibajak"}),
    "delete": lambda c, rid: c.delete(f"/admin/api/tables/usulan/{rid}/"),
    "review": lambda c, rid: c.post("/admin/kantor/api/tinjauan/", json={"table": "usulan", "ids": [str(rid)],
                                                                          "state": "diverifikasi"}),
}


def refused(response: httpx.Response) -> bool:
    """Refused without touching data: 401, or the page's redirect to the log-in."""
    return response.status_code == 401 or (response.status_code == 303 and response.headers["location"] == "/admin/")


@pytest.fixture(scope="module")
def cadre(server: LiveServer, store: Store) -> Device:
    return kader_device(server, store, DESA_GEROKGAK)


@pytest.fixture
def record(cadre: Device) -> uuid.UUID:
    return create(cadre, "usulan", kegiatan="Jembatan gantung")


def with_csrf(c: httpx.Client) -> httpx.Client:
    c.get("/admin/").raise_for_status()
    c.headers["X-CSRFToken"] = c.cookies["csrftoken"]
    return c


def assert_untouched(store: Store, rid: uuid.UUID) -> None:
    row = store.rows("SELECT kegiatan, version, deleted_at, review_state FROM usulan WHERE id = :r", r=str(rid))
    assert tuple(row[0]) == ("Jembatan gantung", 1, None, "diajukan")


def test_a_cadres_device_token_reaches_no_admin_path(server: LiveServer, cadre: Device, record: uuid.UUID,
                                                     store: Store) -> None:
    with server.client(cadre.token) as c:
        with_csrf(c)
        for name, probe in PROBES.items():
            assert refused(probe(c, record)), name
        assert c.get("/admin/api/tables/").status_code == 401
    assert_untouched(store, record)


def test_a_cadre_cannot_log_in_to_the_admin(server: LiveServer, cadre: Device) -> None:
    with server.client() as c:
        with_csrf(c)
        r = c.post("/admin/public/login/", json={"username": cadre.username,  # type: ignore[attr-defined]
                                                 "password": cadre.password})  # type: ignore[attr-defined]
        assert r.status_code == 401 and "id" not in c.cookies


def test_a_cadres_token_mixed_with_cookies_grants_nothing(server: LiveServer, cadre: Device, record: uuid.UUID,
                                                          store: Store) -> None:
    # Her device token as the session cookie, with or without the header.
    with server.client(cadre.token) as c:
        with_csrf(c)
        c.cookies.set("id", cadre.token)
        for name, probe in PROBES.items():
            assert refused(probe(c, record)), name
    # The session table holds no such token for her to find: only admins get sessions.
    assert store.scalar("SELECT count(*) FROM admin_sessions s JOIN users u ON u.id = s.user_id "
                        "WHERE u.username = :u", u=cadre.username) == 0  # type: ignore[attr-defined]
    assert_untouched(store, record)


def test_an_admin_cookie_is_no_key_to_the_cadre_api(server: LiveServer, store: Store) -> None:
    admin = AdminBrowser.new(server, store, GEROKGAK)
    with server.client() as c:
        c.cookies.update(admin.http.cookies)
        assert c.get("/api/sync/pull").status_code == 401
        assert c.post("/api/review", json={"table": "usulan", "ids": [str(uuid.uuid4())],
                                           "state": "diverifikasi"}).status_code == 401
    admin.close()


@pytest.mark.parametrize("change", ["deactivated", "demoted", "admin flag cleared", "logged out", "expired",
                                    "session deleted"])
def test_an_admins_session_stops_working_at_once(server: LiveServer, store: Store, record: uuid.UUID,
                                                 change: str) -> None:
    admin = AdminBrowser.new(server, store, GEROKGAK)
    assert admin.http.get("/admin/kantor/api/konflik/").status_code == 200
    stolen = dict(admin.http.cookies)  # what someone replaying her cookie would hold
    user = User.username == admin.username
    user_id = sa.select(User.id).where(user).scalar_subquery()
    if change == "deactivated":
        store.run(lambda s: s.execute(sa.update(User).where(user).values(active=False)))
    elif change == "demoted":
        store.run(lambda s: s.execute(sa.update(User).where(user).values(role="kader")))
    elif change == "admin flag cleared":
        store.run(lambda s: s.execute(sa.update(User).where(user).values(admin=False)))
    elif change == "logged out":
        assert admin.http.post("/admin/public/logout/").status_code in (200, 303)
    elif change == "expired":
        past = dt.datetime.now() - dt.timedelta(minutes=1)
        store.run(lambda s: s.execute(sa.update(AdminSession).where(AdminSession.user_id == user_id)
                                      .values(expiry_date=past)))
    else:
        store.run(lambda s: s.execute(sa.delete(AdminSession).where(AdminSession.user_id == user_id)))
    with server.client() as c:
        with_csrf(c)
        c.cookies.update({"id": stolen["id"]})
        for name, probe in PROBES.items():
            assert refused(probe(c, record)), (change, name)
    assert_untouched(store, record)
    admin.close()


def test_failed_admin_log_ins_lock_the_account_as_the_api_log_in_does(server: LiveServer, store: Store) -> None:
    username, password = store.user("admin", GEROKGAK)
    with server.client() as c:
        with_csrf(c)
        for _ in range(5):
            assert c.post("/admin/public/login/", json={"username": username, "password": "salah"}).status_code == 401
        assert store.scalar("SELECT failed_logins FROM users WHERE username = :u", u=username) == 5
        assert c.post("/admin/public/login/", json={"username": username, "password": "salah"}).status_code == 401
        assert store.scalar("SELECT locked_until FROM users WHERE username = :u", u=username) is not None
        # Locked: the right password does not open it either, at either door.
        assert c.post("/admin/public/login/", json={"username": username, "password": password}).status_code == 401
        r = c.post("/api/auth/login", json={"username": username, "password": password, "device_name": "x"})
        assert r.status_code == 429
    store.run(lambda s: s.execute(sa.update(User).where(User.username == username).values(locked_until=None)))
    admin = AdminBrowser(server, username, password)  # a success clears the count
    assert store.scalar("SELECT failed_logins FROM users WHERE username = :u", u=username) == 0
    admin.close()
