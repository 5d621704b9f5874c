"""A fresh phone: log in once, then work with no signal through reloads; back in range everything
reaches the server exactly once."""

from __future__ import annotations

import hashlib
import json
import struct

from playwright.sync_api import expect

from tests.conftest import LiveServer, Store
from tests.pwa.conftest import off_loop
from tests.pwa.pages import attend, big_photo, new_musyawarah, new_pengkajian, new_usulan

NAMES = [(f"Peserta {'Ni Luh' if n % 2 else 'I Made'} {n:02d}", "P" if n % 2 else "L") for n in range(1, 41)]


def jpeg_size(data: bytes) -> tuple[int, int]:
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC2):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    raise ValueError("no SOF marker")


def test_a_fresh_phone_works_offline_and_everything_arrives_exactly_once(
        phones, app_on, kader, shots, store: Store, server: LiveServer, tmp_path) -> None:
    phone = app_on(phones())
    page = phone.page
    phone.open()
    expect(page.get_by_role("button", name="Masuk")).to_be_visible()
    shots(page, "00-masuk")
    phone.login(*kader)
    shots(page, "01-beranda")

    phone.context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", name="Desa Gerokgak")).to_be_visible()
    expect(page.get_by_test_id("net")).to_have_text("Tanpa sinyal")

    new_pengkajian(page, "Jalan dusun tergenang saat hujan (uji luring)")
    shots(page, "02-pengkajian-daftar")
    musy = new_musyawarah(page, "Balai Banjar Celukan", photo=big_photo(tmp_path / "daftar-hadir.png"))
    attend(page, NAMES)
    expect(page.get_by_test_id("totals")).to_have_text("Perempuan 20 · Laki-laki 20 · Jumlah 40")
    shots(page, "03-musyawarah-daftar-hadir")
    new_usulan(page, "Pembangunan drainase jalan dusun")
    shots(page, "04-usulan-berperingkat")
    phone.expect_unsent(43)  # 1 pengkajian, 1 musyawarah (with its photo), 40 attendance lines, 1 usulan

    page.reload()  # still offline: the shell comes from the service worker, the data from IndexedDB
    expect(page.get_by_role("heading", name="Usulan berperingkat")).to_be_visible()
    phone.expect_unsent(43)
    phone.go("pengkajian")
    expect(page.get_by_test_id("list")).to_contain_text("Jalan dusun tergenang saat hujan (uji luring)")
    expect(page.get_by_test_id("list")).to_contain_text("#1")
    phone.go(f"musyawarah/{musy}")
    expect(page.get_by_test_id("attendance").locator("li")).to_have_count(40)
    expect(page.get_by_test_id("photos").locator("img")).to_have_count(1)
    phone.go("usulan")
    expect(page.get_by_test_id("list")).to_contain_text("Pembangunan drainase jalan dusun")
    expect(page.get_by_test_id("list")).to_contain_text("Rp 87.500.000")

    phone.context.set_offline(False)  # the `online` event starts the sync by itself
    phone.expect_unsent(0)
    expect(page.get_by_test_id("unsent")).not_to_contain_text("foto", timeout=20_000)
    assert phone.errors == []

    counts = off_loop(store.rows, """
        SELECT (SELECT count(*) FROM pengkajian WHERE uraian = 'Jalan dusun tergenang saat hujan (uji luring)'),
               (SELECT count(*) FROM musyawarah WHERE tempat = 'Balai Banjar Celukan'),
               (SELECT count(*) FROM kehadiran k JOIN musyawarah m ON m.id = k.musyawarah_id
                 WHERE m.tempat = 'Balai Banjar Celukan'),
               (SELECT count(*) FROM kehadiran k JOIN musyawarah m ON m.id = k.musyawarah_id
                 WHERE m.tempat = 'Balai Banjar Celukan' AND k.jenis_kelamin = 'P'),
               (SELECT count(*) FROM usulan WHERE kegiatan = 'Pembangunan drainase jalan dusun'
                 AND biaya = 87500000 AND skor_total = 21 AND sub_bidang_code = '2.3')""")
    assert tuple(counts[0]) == (1, 1, 40, 20, 1)
    # Exactly once: one create in the history per record, nothing written twice.
    creates = off_loop(store.scalar, """
        SELECT count(*) FROM history h JOIN sync_clients c ON c.id = h.client_id JOIN users u ON u.id = c.user_id
         WHERE u.username = :u AND h.op = 'create'""", u=kader[0])
    assert creates == 43
    foto = _foto(store)
    token = server.login(*kader, device="pemeriksa")
    with server.client(token) as c:
        photo = c.get(f"/api/attachments/{foto}")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert hashlib.sha256(photo.content).hexdigest() == foto
    assert max(jpeg_size(photo.content)) <= 1600 and len(photo.content) < 400_000  # resized on the phone


def _foto(store: Store) -> str:
    """The one photo named by the musyawarah (a JSON list of SHA-256 names)."""
    value = off_loop(store.scalar, "SELECT foto FROM musyawarah WHERE tempat = 'Balai Banjar Celukan'")
    [sha] = json.loads(value) if isinstance(value, str) else value
    return sha
