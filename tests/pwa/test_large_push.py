"""Pushes the server refuses for their size or rate: a push larger than the server (or a proxy in front
of it) accepts is sent again in smaller batches and everything arrives once; a rate-limited push waits
as long as the server asks (pwa/js/sync.js, pushAll and scheduleRetry)."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import expect

from tests.conftest import Store, start_server, stop_server
from tests.pwa.conftest import App, off_loop
from tests.pwa.pages import attend, new_musyawarah, new_pengkajian

TEMPAT = "Balai Banjar Celukan (daftar hadir panjang)"


def test_a_push_refused_as_too_large_is_sent_again_in_smaller_batches(phones, kader, store: Store, db_url: str,
                                                                       tmp_path: Path) -> None:
    live = off_loop(start_server, db_url, tmp_path, {"KADER_MAX_BODY_BYTES": "8000"})
    try:
        phone = App(phones(), live)
        page = phone.page
        phone.login(*kader)
        phone.context.set_offline(True)
        new_musyawarah(page, TEMPAT)
        names = [(f"Warga Peserta Nomor {n:02d}", "P" if n % 2 else "L") for n in range(30)]
        attend(page, names)
        phone.expect_unsent(31)
        phone.context.set_offline(False)
        phone.expect_unsent(0)
        assert phone.errors == []
        stored = off_loop(store.scalar, """
            SELECT count(*) FROM kehadiran k JOIN musyawarah m ON m.id = k.musyawarah_id WHERE m.tempat = :t""",
                          t=TEMPAT)
        assert stored == 30
        pushes = [json.loads(line) for line in live.log.read_text().splitlines()
                  if line.startswith("{") and '"path":"/api/sync/push"' in line]
        statuses = [p["status"] for p in pushes]
        assert 413 in statuses, "the first, whole batch should have been too large"
        assert statuses.count(200) >= 2, statuses
    finally:
        stop_server(live)


def test_a_rate_limited_push_waits_as_long_as_the_server_asks(phones, kader, db_url: str, tmp_path: Path) -> None:
    """429 with Retry-After (about a minute here): the next try is not due before that, not after the
    usual first back-off of about 5 s; the record stays unsent meanwhile."""
    live = off_loop(start_server, db_url, tmp_path, {"KADER_RATE_PUSH_PER_MINUTE": "1"})
    try:
        phone = App(phones(), live)
        page = phone.page
        phone.login(*kader)
        new_pengkajian(page, "Sumur warga kering (kiriman pertama)")
        phone.expect_unsent(0)  # saving online syncs; this push was the one allowed this minute
        phone.wait_idle()
        new_pengkajian(page, "Sumur warga kering (kiriman kedua)")
        expect(page.get_by_test_id("sync-error")).to_contain_text("Terlalu sering mencoba")
        wait_s = page.evaluate("""() => (Number(document.getElementById('status').dataset.retryAt) - Date.now())
                                  / 1000""")
        assert 15 < wait_s <= 61, wait_s
        phone.expect_unsent(1)
    finally:
        stop_server(live)
