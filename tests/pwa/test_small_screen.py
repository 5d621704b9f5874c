"""Every screen as a cadre sees it on a 360 × 740 phone in Indonesian (the log-in, then with data on it and
offline): nothing cut, nothing wider than the phone, every tap target 48 px, no English, codes, UUIDs or
ISO dates. A full-page screenshot of each lands in tests/pwa/artifacts/<database>/ (``shots``)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.conftest import GEROKGAK, LiveServer, Store
from tests.pwa.conftest import App, off_loop
from tests.pwa.pages import attend, big_photo, new_musyawarah, new_pengkajian, new_usulan, row_id, save
from tests.pwa.screen_checks import screen_problems
from tests.syncing import Device, mutation


def make_dusun(server: LiveServer, store: Store, desa: str) -> None:
    admin = Device(server, server.login(*off_loop(store.user, "admin", GEROKGAK)))  # HTTP here; the database off-loop
    for nama in ("Banjar Dinas Celukan", "Banjar Dinas Tegal"):
        [r] = admin.push(mutation("create", "dusun", uuid.uuid4(), {"desa_code": desa, "nama": nama,
                                                                    "sebutan": "Banjar Dinas"}))
        assert r["status"] == "applied", r


def looks_right(phone: App, route: str, shot: str, shots, found: list[str]) -> None:
    """Opens ``route``, waits for it to be drawn, saves its screenshot and adds what is wrong on it to ``found``."""
    page = phone.page
    phone.go(route)
    expect(page.locator("#toast .toast")).to_have_count(0)  # gone after 4 s: they would hide part of the picture
    shots(page, shot)
    found += [f"#/{route}: {p}" for p in screen_problems(page)]
    # The status bar is one row beside its 48 px button.
    height = page.locator("#status .status-line").bounding_box()["height"]
    if height > 57:
        found.append(f"#/{route}: the status bar is {height} px tall")


def conflict_on(phone: App, other: Device, rid: str) -> None:
    """Another phone of the desa changes the uraian she is changing offline: a conflict for her."""
    phone.context.set_offline(True)
    phone.go(f"pengkajian/{rid}")
    phone.page.get_by_label("Uraian").fill("Sumur warga kering, air harus dibeli dari truk tangki")
    save(phone.page)
    [r] = other.push(mutation("update", "pengkajian", uuid.UUID(rid), {"uraian": "Sumur warga kering sejak Juli"},
                              base_version=1))
    assert r["status"] == "applied", r
    phone.context.set_offline(False)
    phone.expect_unsent(0)


@pytest.mark.slow
def test_every_screen_reads_whole_at_360px_in_indonesian(phones, app_on, store: Store, server: LiveServer, shots,
                                                         tmp_path) -> None:
    desa = off_loop(store.new_desa, GEROKGAK)  # a desa of its own: its lists hold only what this test made
    make_dusun(server, store, desa)
    phone = app_on(phones())
    page = phone.page
    phone.open()
    expect(page.get_by_role("button", name="Masuk")).to_be_visible()
    shots(page, "19-masuk")
    found = [f"log-in: {p}" for p in screen_problems(page)]
    phone.login(*off_loop(store.user, "kader", desa))
    other = Device(server, server.login(*off_loop(store.user, "kader", desa)))

    new_pengkajian(page, "Sumur warga kering di musim kemarau")
    new_pengkajian(page, "Potensi kelompok tenun ikat perempuan", jenis="Potensi")
    musy = new_musyawarah(page, "Balai Banjar Dinas Celukan", photo=big_photo(tmp_path / "daftar-hadir.png"),
                          mulai="19:00")
    attend(page, [("Ni Luh Putu Sekarwangi Kusumadewi", "P"), ("I Made Sutama", "L"), ("", "P"), ("", "L")])
    new_usulan(page, "Pembangunan drainase jalan dusun sepanjang 250 meter")
    phone.sync()
    rid = row_id(page, "Pembangunan drainase")
    phone.go("pengkajian")
    sumur = row_id(page, "Sumur warga kering")
    admin = server.login(*off_loop(store.user, "admin", GEROKGAK), device="kantor")
    with server.client(admin) as c:
        r = c.post("/api/review", json={"table": "usulan", "ids": [rid], "state": "perlu_perbaikan",
                                        "note": "Sebutkan lebar saluran dan siapa yang merawatnya."})
        assert r.status_code == 200, r.text
    phone.sync()
    conflict_on(phone, other, sumur)

    # The rest offline, as in the field; a tap on Sinkronkan there says why nothing is sent.
    phone.context.set_offline(True)
    phone.go("")
    expect(page.get_by_test_id("net")).to_have_text("Tanpa sinyal")
    page.get_by_test_id("sync-button").click()
    expect(page.get_by_test_id("sync-error")).to_be_visible()

    looks_right(phone, "", "20-beranda", shots, found)
    expect(page.get_by_test_id("attention-conflicts")).to_have_text(re.compile(r"^1 konflik"))
    looks_right(phone, "pengkajian", "21-pengkajian-daftar", shots, found)
    expect(page.get_by_label("Jenis")).to_have_value("")
    expect(page.locator(".filters select >> nth=0 >> option >> nth=0")).to_have_text("Semua jenis")
    expect(page.locator(".filters select >> nth=1 >> option >> nth=0")).to_have_text("Semua dusun")
    expect(page.locator(".filters select >> nth=2 >> option >> nth=0")).to_have_text("Semua status")
    looks_right(phone, "musyawarah", "22-musyawarah-daftar", shots, found)
    expect(page.get_by_test_id("list")).to_contain_text(re.compile(r"Musyawarah dusun · \d{1,2} \w{3} \d{4}"))
    looks_right(phone, "usulan", "23-usulan-berperingkat", shots, found)
    looks_right(phone, "cari", "24-cari", shots, found)
    looks_right(phone, "pengkajian/baru", "25-pengkajian-baru", shots, found)
    looks_right(phone, f"pengkajian/{sumur}", "26-pengkajian-konflik", shots, found)
    looks_right(phone, "musyawarah/baru", "27-musyawarah-baru", shots, found)
    expect(page.get_by_text("Ambil foto")).to_be_visible()
    looks_right(phone, f"musyawarah/{musy}", "28-musyawarah-daftar-hadir", shots, found)
    expect(page.get_by_test_id("attendance").locator(".unnamed")).to_have_count(2)
    looks_right(phone, "usulan/baru", "29-usulan-baru", shots, found)
    page.get_by_label("Asal musyawarah").select_option(musy)
    expect(page.get_by_label("Asal musyawarah").locator("option:checked")).to_have_text(
        re.compile(r"^\d{1,2} \w{3} \d{4} 19\.00 · Musyawarah dusun · Balai Banjar Dinas Celukan · "
                   r"Banjar Dinas Celukan$"))
    found += [f"usulan picker: {p}" for p in screen_problems(page)]
    page.evaluate("r => { location.hash = '#/usulan/' + r; }", rid)
    page.get_by_role("button", name="Buang isian").click()  # the picked meeting was only a look
    looks_right(phone, f"usulan/{rid}", "30-usulan-perlu-perbaikan", shots, found)
    expect(page.get_by_test_id("review-note")).to_have_text(
        "Catatan admin: Sebutkan lebar saluran dan siapa yang merawatnya.")
    looks_right(phone, "konflik", "31-konflik", shots, found)
    expect(page.get_by_test_id("conflict")).to_have_count(1)
    looks_right(phone, "pengaturan", "32-pengaturan", shots, found)
    assert not found, "At 360 px:\n  " + "\n  ".join(found)
    assert not phone.errors
