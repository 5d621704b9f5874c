"""Odd input that used to be a 500 (or a dropped connection) answers a 4xx naming what is wrong, and
stores nothing, on both databases: an overflowing pull cursor, piccolo-admin's table API with columns
that do not exist, numbers past the database's range, values outside a column's type, NUL characters, a
header-injection attempt, the office's queue with an unknown state, and a log-in with a list for a name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.admin.helpers import AdminBrowser
from tests.conftest import DESA_GEROKGAK, GEROKGAK, LiveServer, Store

T = "/admin/api/tables"

# (who asks, method, path as sent, JSON body)
CASES: dict[str, tuple[str, str, str, Any]] = {
    "pull cursor past 64 bits": ("cadre", "GET", f"/api/sync/pull?cursor=99999999999999999999999@{DESA_GEROKGAK}",
                                 None),
    "order by a column that does not exist": ("admin", "GET", f"{T}/pengkajian/?__order=nosuchcolumn", None),
    "order by a bare minus": ("admin", "GET", f"{T}/pengkajian/?__order=-", None),
    "order by a joined column": ("admin", "GET", f"{T}/pengkajian/?__order=dusun_id.nama", None),
    "order with a trailing comma": ("admin", "GET", f"{T}/pengkajian/count/?__order=id,", None),
    "page past 64 bits": ("admin", "GET", f"{T}/pengkajian/?__page=99999999999999999999", None),
    "negative page size": ("admin", "GET", f"{T}/pengkajian/?__page_size=-5", None),
    "row id past 64 bits": ("admin", "GET", f"{T}/history/99999999999999999999999/", None),
    "row id that is no uuid": ("admin", "GET", f"{T}/pengkajian/bukan-uuid/", None),
    "filter on a JSON list": ("admin", "GET", f"{T}/kader/?peran=x", None),
    "filter on a JSON object": ("admin", "GET", f"{T}/history/?changes=x", None),
    "filter outside a column's choices": ("admin", "GET", f"{T}/kader/count/?jenis_kelamin=-1", None),
    "filter longer than its column": ("admin", "GET", f"{T}/history/?op=99999999999999999999999", None),
    "filter number past 64 bits": ("admin", "GET", f"{T}/usulan/?biaya=99999999999999999999999", None),
    "filter number past 32 bits": ("admin", "GET", f"{T}/usulan/?version=-9999999999", None),
    "unknown filter operator": ("admin", "GET", f"{T}/usulan/?biaya=1&biaya__operator=like", None),
    "office queue with an unknown state": ("admin", "GET", "/admin/kantor/api/tinjauan/?status=nosuchstate", None),
    "office queue page with an unknown state": ("admin", "GET", "/admin/kantor/tinjauan/?status=nosuchstate", None),
    "log-in with a list for a name": ("anonymous", "POST", "/admin/public/login/", {"username": ["x"],
                                                                                    "password": "y"}),
    "picker with a negative limit": ("admin", "GET", f"{T}/pengkajian/ids/?search=a&limit=-1", None),
    "picker with a negative offset": ("admin", "GET", f"{T}/pengkajian/ids/?search=a&offset=-1", None),
    "picker with an offset past 64 bits": ("admin", "GET", f"{T}/users/ids/?offset=99999999999999999999", None),
    "picker searching for NUL": ("admin", "GET", f"{T}/pengkajian/ids/?search=%00", None),
    "filter holding NUL": ("admin", "GET", f"{T}/pengkajian/?uraian=a%00b", None),
    "office path holding NUL": ("admin", "GET", "/admin/kantor/api/tinjauan/?desa=51%00", None),
    "header injection in the range header name": (
        "admin", "GET", f"{T}/pengkajian/?__range_header=true&__range_header_name=x%0d%0aSet-Cookie:%20a=b", None),
}


@pytest.fixture(scope="module")
def callers(server: LiveServer, store: Store) -> Iterator[dict[str, httpx.Client]]:
    admin = AdminBrowser.new(server, store, GEROKGAK)
    anonymous = server.client()
    anonymous.get("/admin/").raise_for_status()
    anonymous.headers["X-CSRFToken"] = anonymous.cookies["csrftoken"]
    cadre = server.client(server.login(*store.user("kader", DESA_GEROKGAK)))
    yield {"admin": admin.http, "anonymous": anonymous, "cadre": cadre}
    admin.close()
    anonymous.close()
    cadre.close()


def stored(store: Store) -> tuple[Any, ...]:
    return tuple(store.scalar(sql) for sql in (
        "SELECT count(*) FROM history", "SELECT count(*) FROM admin_sessions",
        "SELECT coalesce(sum(failed_logins), 0) FROM users", "SELECT count(*) FROM processed_mutations"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_odd_input_is_a_4xx_naming_the_problem_and_stores_nothing(
    callers: dict[str, httpx.Client], store: Store, case: str
) -> None:
    who, method, path, body = CASES[case]
    before = stored(store)
    r = callers[who].request(method, path, json=body)
    assert 400 <= r.status_code < 500, (case, r.status_code, r.text[:300])
    if path.startswith("/admin/kantor/") and "/api/" not in path:
        assert r.headers["content-type"].startswith("text/html")  # the office's error page
    else:
        assert r.headers["content-type"].startswith("application/problem+json"), (case, r.headers)
        assert r.json()["code"] and r.json()["detail"], r.text
    assert "a=b" not in r.headers.get("set-cookie", "")  # nothing of the query became a header
    assert stored(store) == before


def test_the_list_api_still_takes_what_the_admin_screens_send(callers: dict[str, httpx.Client]) -> None:
    """The filter form's own parameters pass the gate's checks unchanged."""
    admin = callers["admin"]
    for path, params in [
        (f"{T}/pengkajian/", {"__readable": "true", "__page_size": 15, "__page": 1, "__order": "-updated_at",
                              "uraian": "air", "uraian__match": "contains", "review_state": "diajukan",
                              "created_at__operator": "gte", "created_at": "2026-01-01T00:00",
                              "has_conflict": "false", "skor_total__operator": "gt", "skor_total": 3}),
        (f"{T}/pengkajian/count/", {"dusun_id__operator": "is_null"}),
        (f"{T}/usulan/", {"__page_size": 1000, "__page": 1, "__readable": "true",
                          "__visible_fields": "id,kegiatan,biaya", "biaya": 5000000, "biaya__operator": "lte"}),
        (f"{T}/history/", {"__order": "-id", "user_id": 1, "op": "update"}),
        (f"{T}/wilayah/", {"level": 4, "kind": "desa"}),
        (f"{T}/pengkajian/ids/", {"search": "a", "limit": 10, "offset": 0}),
        (f"{T}/users/ids/", {"search": "admin", "limit": 5}),
    ]:
        r = admin.get(path, params=params)
        assert r.status_code == 200, (path, r.text[:300])
