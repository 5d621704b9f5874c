"""The admin's configuration against the schema (no server): every table is shown or hidden on purpose,
every column named exists, every screen phrase is translated, every path is routed on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest
from piccolo_admin.translations.data import ENGLISH

from admin.config import COMMON, HIDDEN_TABLES, SHOWN, WRITABLE_TABLES, table_configs
from admin.gate import OFFICE, PICCOLO, classify
from admin.scope import GLOBAL, region_column
from admin.tables import derive_tables, piccolo_engine
from admin.translation import INDONESIAN
from server.models import Base
from sync.records import TABLES


def test_every_table_is_shown_or_hidden_and_every_shown_table_is_scoped() -> None:
    names = set(Base.metadata.tables)
    assert set(SHOWN) | HIDDEN_TABLES == names and not set(SHOWN) & HIDDEN_TABLES
    assert WRITABLE_TABLES == set(TABLES) <= set(SHOWN)
    for name in SHOWN:
        columns = [c.name for c in Base.metadata.tables[name].columns]
        assert region_column(name, columns) or name in GLOBAL, f"{name} is shown but has no region rule"


def test_every_configured_column_exists(tmp_path: Path) -> None:
    tables = derive_tables(piccolo_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"))
    configs = table_configs(tables)  # looks every column up by name
    assert {c.table_class._meta.tablename for c in configs} == set(SHOWN)
    for name, shown in SHOWN.items():
        columns = {c.name for c in Base.metadata.tables[name].columns}
        assert set(shown.labels) <= columns, name
    assert set(COMMON) <= {c.name for t in Base.metadata.tables.values() for c in t.columns}


def test_every_screen_phrase_has_an_indonesian_translation() -> None:
    assert set(INDONESIAN.translations) == set(ENGLISH.translations)
    assert all(v.strip() for v in INDONESIAN.translations.values())


SHOWN_NAMES, WRITABLE = set(SHOWN), WRITABLE_TABLES


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("GET", "/", PICCOLO), ("GET", "/assets/index.js", PICCOLO), ("POST", "/public/login/", PICCOLO),
    ("GET", "/public/translations/id/", PICCOLO), ("GET", "/api/tables/", PICCOLO),
    ("GET", "/api/tables/grouped/", PICCOLO), ("GET", "/api/tables/usulan/", PICCOLO),
    ("GET", "/api/tables/usulan/count/", PICCOLO), ("GET", "/api/tables/usulan/ids/", PICCOLO),
    ("GET", "/api/tables/usulan/0e8a1c52-3f0e-4d5a-9b1e-0c6a2b9d7f10/", PICCOLO),
    ("GET", "/api/tables/wilayah/51.08.01/", PICCOLO), ("GET", "/api/user/", PICCOLO),
    ("POST", "/api/change-password/", PICCOLO), ("GET", "/api/forms/grouped/", PICCOLO),
    ("POST", "/api/tables/usulan/", OFFICE), ("PATCH", "/api/tables/usulan/x/", OFFICE),
    ("DELETE", "/api/tables/usulan/x/", OFFICE), ("PUT", "/api/tables/usulan/x/", OFFICE),
    ("GET", "/api/tables/users/ids/", OFFICE), ("GET", "/kantor/akun/", OFFICE),
    ("POST", "/kantor/api/tinjauan/", OFFICE),
    ("GET", "/api/tables/users/", 404), ("GET", "/api/tables/devices/ids/", 404), ("GET", "/api/docs/", 404),
    ("GET", "/api/openapi.json", 404), ("POST", "/api/media/", 404), ("GET", "/public/docs/", 404),
    ("GET", "/api/tables/usulan/a/b/", 404), ("GET", "/api/tables/usulan/../users/", 404),
    ("GET", "/api//tables/", 404), ("GET", "/api/tables/us%lan/", 404), ("POST", "/api/forms/x/", 404),
    ("DELETE", "/api/tables/usulan/", OFFICE), ("POST", "/api/tables/wilayah/", 405),
    ("PATCH", "/api/tables/history/1/", 405), ("POST", "/api/tables/usulan/count/", 405),
    ("OPTIONS", "/api/tables/usulan/", 405), ("POST", "/api/tables/", 405), ("DELETE", "/", 405),
])
def test_the_gate_routes_every_path_on_purpose(method: str, path: str, expected: str | int) -> None:
    route = classify(method, path, SHOWN_NAMES, WRITABLE)
    assert (route.target or route.status) == expected
