"""piccolo-admin at /admin/: derived tables, cross-ORM values, log-in with Kader accounts (both databases)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from piccolo.columns import ForeignKey
from piccolo.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from admin.auth import auth_tables
from admin.mount import HIDDEN_TABLES
from admin.tables import UnmappedColumn, derive_tables, piccolo_engine
from server.models import Base, Dusun, User
from tests.conftest import DESA_GEROKGAK, GEROKGAK, LiveServer, Store

WITA = dt.timezone(dt.timedelta(hours=8))  # Bali: the +08:00 the phones send


@pytest.fixture(scope="module")
def tables(db_url: str) -> dict[str, type[Table]]:
    return derive_tables(piccolo_engine(db_url))


# --- derived tables -------------------------------------------------------------------------------


def test_every_table_maps_with_the_same_columns_and_primary_key(tables: dict[str, type[Table]]) -> None:
    assert set(tables) == set(Base.metadata.tables)
    for name, sa_table in Base.metadata.tables.items():
        table = tables[name]
        names = [c._meta.db_column_name for c in table._meta.columns]
        assert names == [c.name for c in sa_table.columns], name
        keys = [c.name for c in sa_table.primary_key]
        if len(keys) > 1:  # Piccolo has no composite keys: the one the model names (admin/tables.py)
            keys = [sa_table.info["piccolo"]["primary_key"]]
        assert [table._meta.primary_key._meta.db_column_name] == keys, name
        for column in sa_table.columns:
            piccolo = table._meta.get_column_by_name(column.name)
            assert piccolo._meta.null == column.nullable, f"{name}.{column.name}"
            if column.foreign_keys:
                (fk,) = column.foreign_keys
                assert isinstance(piccolo, ForeignKey), f"{name}.{column.name}"
                assert piccolo._foreign_key_meta.resolved_references._meta.tablename == fk.column.table.name


def test_primary_keys_have_the_types_of_the_schema(tables: dict[str, type[Table]]) -> None:
    kinds = {name: type(t._meta.primary_key).__name__ for name, t in tables.items()}
    assert kinds["wilayah"] == kinds["bidang"] == "Varchar"
    assert kinds["dusun"] == kinds["kader"] == kinds["usulan"] == "UUID"
    assert kinds["users"] == kinds["devices"] == kinds["admin_sessions"] == "Serial"


def test_every_derived_table_reads_the_migrated_database(tables: dict[str, type[Table]]) -> None:
    """Selecting every column by name fails if the migration and the models disagree."""

    async def read_all() -> None:
        for table in tables.values():
            await table.select(*table._meta.columns).limit(1)

    asyncio.run(read_all())


def test_an_unmapped_column_type_is_a_clear_error(tmp_path: Path) -> None:
    metadata = sa.MetaData()
    sa.Table("ukur", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("luas", sa.Numeric(10, 2)))
    with pytest.raises(UnmappedColumn, match=r"ukur\.luas"):
        derive_tables(piccolo_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"), metadata)


# --- one value, two ORMs --------------------------------------------------------------------------


def test_uuid_and_aware_timestamp_written_by_sqlalchemy_read_back_through_piccolo(
    store: Store, tables: dict[str, type[Table]]
) -> None:
    piccolo_dusun = tables["dusun"]
    row_id, at = uuid.uuid4(), dt.datetime(2026, 3, 1, 9, 30, 15, 250_000, tzinfo=WITA)

    async def add(s: AsyncSession) -> None:
        s.add(Dusun(id=row_id, desa_code=DESA_GEROKGAK, nama="Banjar Dinas Kelod",
                    created_at=at, updated_at=at))

    store.run(add)
    # Found by its id: the stored UUID has the form Piccolo binds (dashed text on SQLite).
    row = piccolo_dusun.select().where(piccolo_dusun.id == row_id).first().run_sync()
    assert row is not None
    assert isinstance(row["id"], uuid.UUID) and row["id"] == row_id
    assert row["created_at"] == at and row["created_at"].utcoffset() is not None
    assert row["deleted_at"] is None and row["nama"] == "Banjar Dinas Kelod"


def test_uuid_and_aware_timestamp_written_by_piccolo_read_back_through_sqlalchemy(
    store: Store, tables: dict[str, type[Table]]
) -> None:
    piccolo_dusun = tables["dusun"]
    row_id, at = uuid.uuid4(), dt.datetime(2026, 3, 2, 20, 5, 0, 1, tzinfo=WITA)
    piccolo_dusun(id=row_id, desa_code=DESA_GEROKGAK, nama="Banjar Dinas Kaja",
                  created_at=at, updated_at=at, deleted_at=at).save().run_sync()

    async def get(s: AsyncSession) -> Dusun | None:
        return await s.get(Dusun, row_id)

    dusun = store.run(get)
    assert dusun is not None and dusun.id == row_id
    assert dusun.created_at == dusun.deleted_at == at
    # The Piccolo defaults stand in for the model's (admin inserts do not run SQLAlchemy's).
    assert (dusun.version, dusun.change_seq, dusun.sebutan, dusun.has_conflict) == (1, 0, "Dusun", False)
    # And the row is found by SQLAlchemy's own UUID binding.
    assert store.scalar("SELECT nama FROM dusun WHERE id = :i", i=row_id) == "Banjar Dinas Kaja"


# --- admin user table ------------------------------------------------------------------------------


def test_loading_a_user_keeps_its_argon2_hash_and_new_passwords_get_argon2(
    store: Store, db_url: str
) -> None:
    """BaseUser would PBKDF2-hash any value not starting with pbkdf2_sha256, on load as well."""
    username, password = store.user("admin", GEROKGAK)
    stored = store.scalar("SELECT password FROM users WHERE username = :u", u=username)
    admin_user, _ = auth_tables(piccolo_engine(db_url))
    loaded = admin_user.objects().where(admin_user.username == username).first().run_sync()
    assert loaded is not None and loaded.password == stored and stored.startswith("$argon2")
    assert admin_user(username="x", password="kata-sandi-baru").password.startswith("$argon2")


# --- over HTTP -----------------------------------------------------------------------------------


@pytest.fixture
def browser(server: LiveServer) -> Iterator[httpx.Client]:
    """A client holding piccolo-admin's CSRF cookie, sending it back as the header the admin UI sends."""
    with server.client() as c:
        c.get("/admin/").raise_for_status()
        c.headers["X-CSRFToken"] = c.cookies["csrftoken"]
        yield c


def login(c: httpx.Client, username: str, password: str) -> httpx.Response:
    return c.post("/admin/public/login/", json={"username": username, "password": password})


def test_admin_page_is_served_and_slashless_path_redirects(server: LiveServer) -> None:
    with server.client() as c:
        page = c.get("/admin/")
        bare = c.get("/admin")
        script = re.search(r'src="\./(assets/[^"]+\.js)"', page.text)
        assert script is not None
        asset = c.get(f"/admin/{script.group(1)}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert asset.status_code == 200 and "javascript" in asset.headers["content-type"]
    assert bare.status_code in (301, 308) and bare.headers["location"] == "/admin/"


def test_api_needs_a_session(browser: httpx.Client) -> None:
    assert browser.get("/admin/api/tables/").status_code == 401


def test_admin_account_logs_in_and_lists_tables(browser: httpx.Client, store: Store) -> None:
    username, password = store.user("admin", GEROKGAK)
    r = login(browser, username, password)
    assert r.status_code == 200, r.text
    assert "id" in browser.cookies

    listed = browser.get("/admin/api/tables/")
    assert listed.status_code == 200
    assert set(listed.json()) == set(Base.metadata.tables) - HIDDEN_TABLES
    assert browser.get("/admin/api/user/").json()["username"] == username
    wilayah = browser.get("/admin/api/tables/wilayah/", params={"code": DESA_GEROKGAK}).json()
    assert [w["name"] for w in wilayah["rows"]] == ["Gerokgak"]
    for hidden in HIDDEN_TABLES:
        assert browser.get(f"/admin/api/tables/{hidden}/").status_code == 404

    last_login = store.scalar("SELECT last_login FROM users WHERE username = :u", u=username)
    assert last_login is not None
    assert store.scalar("SELECT count(*) FROM admin_sessions WHERE user_id = "
                        "(SELECT id FROM users WHERE username = :u)", u=username) == 1


def test_kader_accounts_wrong_passwords_and_inactive_admins_are_refused(
    browser: httpx.Client, store: Store
) -> None:
    kader, kader_password = store.user("kader", DESA_GEROKGAK)
    admin, admin_password = store.user("admin", GEROKGAK)
    assert login(browser, kader, kader_password).status_code == 401
    assert login(browser, admin, "bukan-kata-sandinya").status_code == 401
    assert login(browser, "tidak-ada-orangnya", admin_password).status_code == 401
    store.run(lambda s: s.execute(sa.update(User).where(User.username == admin).values(active=False)))
    assert login(browser, admin, admin_password).status_code == 401
    assert "id" not in browser.cookies
    assert browser.get("/admin/api/tables/").status_code == 401


def test_a_demoted_admin_loses_the_open_session_at_once(browser: httpx.Client, store: Store) -> None:
    username, password = store.user("admin", GEROKGAK)
    assert login(browser, username, password).status_code == 200
    assert browser.get("/admin/api/tables/").status_code == 200
    # Only the role changes; the BaseUser ``admin`` flag the middleware reads stays True in the row.
    store.run(lambda s: s.execute(sa.update(User).where(User.username == username).values(role="kader")))
    assert browser.get("/admin/api/tables/").status_code == 401


def test_login_without_the_csrf_token_is_refused(server: LiveServer, store: Store) -> None:
    username, password = store.user("admin", GEROKGAK)
    with server.client() as c:
        c.get("/admin/")  # has the cookie, but does not send it back as a header
        r = c.post("/admin/public/login/", json={"username": username, "password": password})
    assert r.status_code == 403


def test_password_change_in_the_admin_stores_argon2_and_works_for_the_api(
    browser: httpx.Client, server: LiveServer, store: Store
) -> None:
    username, password = store.user("admin", GEROKGAK)
    assert login(browser, username, password).status_code == 200
    new = "kata-sandi-baru-123"
    r = browser.post("/admin/api/change-password/",
                     json={"current_password": password, "new_password": new, "confirm_new_password": new})
    assert r.status_code == 303, r.text
    assert store.scalar("SELECT password FROM users WHERE username = :u", u=username).startswith("$argon2")
    server.login(username, new)  # Kader's own log-in verifies the new hash
    assert login(browser, username, password).status_code == 401
    assert login(browser, username, new).status_code == 200
