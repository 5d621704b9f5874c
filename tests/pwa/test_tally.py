"""A daftar hadir kept as a tally: with no time for names she taps + Perempuan / + Laki-laki on an empty
box; each tap is an unnamed line that reaches the server, counts in the totals and the rekap, and shows
as "(tanpa nama)" on every phone of the desa."""

from __future__ import annotations

import csv
import io
import uuid

from playwright.sync_api import expect

from tests.conftest import DESA_GEROKGAK, GEROKGAK, LiveServer, Store
from tests.pwa.conftest import off_loop
from tests.pwa.pages import attend, new_musyawarah

TEMPAT = "Balai Banjar Dinas Tegal (hitungan cepat)"


def server_lines(store: Store, musyawarah: str) -> list[tuple[str, str]]:
    mid = musyawarah if store.url.startswith("sqlite") else uuid.UUID(musyawarah)
    rows = off_loop(store.rows, "SELECT nama, jenis_kelamin FROM kehadiran WHERE musyawarah_id = :m "
                                "AND deleted_at IS NULL", m=mid)
    return sorted((nama, jk) for nama, jk in rows)


def rekap_row(server: LiveServer, store: Store) -> dict[str, str]:
    admin = server.login(*off_loop(store.user, "admin", GEROKGAK), device="kantor")
    with server.client(admin) as c:
        r = c.get(f"/api/exports/{DESA_GEROKGAK}/rekap-musyawarah.csv")
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"), newline=""), delimiter=";"))
    [row] = [row for row in rows if row["Tempat"] == TEMPAT]
    return row


def test_a_tally_without_names_reaches_the_server_and_counts_everywhere(
        phones, app_on, kader, store: Store, server: LiveServer, shots) -> None:
    phone = app_on(phones())
    page = phone.page
    phone.login(*kader)
    musy = new_musyawarah(page, TEMPAT)
    attend(page, [("Ni Kadek Sari", "P"), ("", "P"), ("", "L"), ("", "L")])
    totals = page.get_by_test_id("totals")
    expect(totals).to_have_text("Perempuan 2 · Laki-laki 2 · Jumlah 4 (3 tanpa nama)")
    lines = page.get_by_test_id("attendance").locator("li")
    expect(lines.filter(has_text="(tanpa nama)")).to_have_count(3)
    expect(page.get_by_test_id("hadir-nama")).to_be_focused()  # ready for the next tap or name
    shots(page, "40-daftar-hadir-hitungan")
    phone.sync()
    phone.expect_unsent(0)
    assert server_lines(store, musy) == [("", "L"), ("", "L"), ("", "P"), ("Ni Kadek Sari", "P")]

    # One man counted twice by mistake: the remove button is a full 48 px target.
    remove = lines.filter(has=page.locator(".sex-L")).first.get_by_role("button")
    expect(remove).to_have_accessible_name("Hapus (tanpa nama) dari daftar hadir")
    box = remove.bounding_box()
    assert box["width"] >= 48 and box["height"] >= 48, box
    remove.click()
    page.get_by_role("button", name="Hapus", exact=True).click()
    expect(totals).to_have_text("Perempuan 2 · Laki-laki 1 · Jumlah 3 (2 tanpa nama)")
    phone.sync()
    phone.expect_unsent(0)
    assert server_lines(store, musy) == [("", "L"), ("", "P"), ("Ni Kadek Sari", "P")]
    row = rekap_row(server, store)
    assert (row["Hadir laki-laki"], row["Hadir perempuan"], row["Jumlah hadir"]) == ("1", "2", "3")

    # Another phone of the desa receives the lines as they are: unnamed, counted.
    other = app_on(phones())
    other.login(*off_loop(store.user, "kader", DESA_GEROKGAK))
    other.go(f"musyawarah/{musy}")
    expect(other.page.get_by_test_id("totals")).to_have_text("Perempuan 2 · Laki-laki 1 · Jumlah 3 (2 tanpa nama)")
    expect(other.page.get_by_test_id("attendance").locator(".unnamed")).to_have_count(2)
    assert not phone.errors and not other.errors
