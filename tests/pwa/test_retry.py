"""When to try again: a server that does not answer is retried by itself with growing delays until it
is back, and everything arrives once; a server that wants a newer app is never retried in a loop, and
the unsent data waits for the update."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer, Store, start_server, stop_server
from tests.pwa.conftest import App, off_loop, restart
from tests.pwa.pages import new_pengkajian, new_usulan, save
from tests.support.app_versions import REPO_PWA

URAIAN = "Lampu jalan mati sejak banjir (server mati)"
KEGIATAN = "Penerangan jalan dusun tenaga surya"


def failed_sync(page: Page, after: int) -> tuple[int, float, float]:
    """Waits for a finished sync after the ``after``-th that left an automatic retry scheduled;
    returns (syncs so far, when it was seen, when the retry is due), times in ms on the page's clock."""
    page.wait_for_function("""n => { const bar = document.getElementById('status');
        return Number(bar.dataset.syncs) > n && !!bar.dataset.retryAt; }""", arg=after, timeout=30_000)
    return tuple(page.evaluate("""() => { const bar = document.getElementById('status');
        return [Number(bar.dataset.syncs), Date.now(), Number(bar.dataset.retryAt)]; }"""))


def syncs(page: Page) -> int:
    return int(page.locator("#status").get_attribute("data-syncs") or "0")


def test_an_unreachable_server_is_retried_with_growing_delays_until_everything_arrives_once(
        phones, kader, store: Store, own_server, db_url: str, tmp_path: Path, shots) -> None:
    live = own_server[0]
    phone = App(phones(), live)
    page = phone.page
    phone.login(*kader)
    phone.context.set_offline(True)
    new_pengkajian(page, URAIAN)
    new_usulan(page, KEGIATAN)
    phone.expect_unsent(2)
    stop_server(live)

    # The phone has a connection again but the server does not answer: the `online` event tries at once.
    before = syncs(page)
    phone.context.set_offline(False)
    first = failed_sync(page, before)
    error = page.get_by_test_id("sync-error")
    expect(error).to_contain_text("Server tidak bisa dihubungi. Data aman di HP ini dan akan dikirim nanti.")
    expect(error).to_contain_text(re.compile(r"Dicoba lagi otomatis pukul \d\d\.\d\d\.\d\d\."))
    expect(page.get_by_test_id("net")).to_have_text("Ada sinyal")
    shots(page, "12-server-tidak-terhubung")
    phone.expect_unsent(2)

    # Nobody presses anything: the retry comes by itself, fails again, and waits longer next time.
    second = failed_sync(page, first[0])
    first_delay, second_delay = (first[2] - first[1]) / 1000, (second[2] - second[1]) / 1000
    assert 3.5 <= first_delay <= 6.5, first_delay  # 5 s ± 25 % jitter
    assert 7.0 <= second_delay <= 13.0, second_delay  # 10 s ± 25 %
    assert second[1] >= first[2] - 500, "the retry came before it was due"
    assert second[0] == first[0] + 1, "one retry, not several"
    phone.expect_unsent(2)

    # The server comes back on its address; a scheduled retry delivers everything (the one already due,
    # or the next if the server was still starting when it came).
    restart(own_server, db_url, tmp_path / "data")
    phone.expect_unsent(0)
    expect(error).to_be_hidden()
    assert phone.errors == []

    assert off_loop(store.scalar, "SELECT count(*) FROM pengkajian WHERE uraian = :u", u=URAIAN) == 1
    assert off_loop(store.scalar, "SELECT count(*) FROM usulan WHERE kegiatan = :k", k=KEGIATAN) == 1
    creates = off_loop(store.scalar, """
        SELECT count(*) FROM history h JOIN sync_clients c ON c.id = h.client_id JOIN users u ON u.id = c.user_id
         WHERE u.username = :u""", u=kader[0])
    assert creates == 2


@pytest.fixture
def old_protocol(db_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, Path]]:
    """A server serving a copy of the app that speaks a protocol version the server does not accept."""
    copy = tmp_path / "pwa"
    shutil.copytree(REPO_PWA, copy)
    set_protocol(copy, 99)
    (tmp_path / "data").mkdir()
    live = off_loop(start_server, db_url, tmp_path / "data", {"KADER_PWA_DIR": str(copy)})
    yield live, copy
    stop_server(live)


def set_protocol(copy: Path, version: int) -> None:
    protocol = copy / "js" / "contract.js"  # generated from sync/protocol.py; protocol.js re-exports it
    text, n = re.subn(r"export const PROTOCOL_VERSION = \d+;", f"export const PROTOCOL_VERSION = {version};",
                      protocol.read_text())
    assert n == 1
    protocol.write_text(text)


def test_update_required_asks_for_the_update_never_loops_and_keeps_the_outbox(
        phones, kader, store: Store, old_protocol, shots) -> None:
    server, copy = old_protocol
    phone = App(phones(), server)
    page = phone.page
    phone.login(*kader)  # log-in is not versioned; the first pull after it is refused
    error = page.get_by_test_id("sync-error")
    update_text = "Aplikasi perlu diperbarui sebelum bisa sinkron."
    expect(error).to_contain_text(update_text)

    before = syncs(page)
    # The refused pull brought no reference data (bidang, dusun): the few fields that need none.
    page.evaluate("location.hash = '#/pengkajian/baru'")
    page.locator("label.choice", has_text="Masalah").click()
    page.get_by_label("Uraian").fill("Kajian yang menunggu pembaruan aplikasi")
    save(page)  # saving online syncs by itself
    page.wait_for_function("n => Number(document.getElementById('status').dataset.syncs) > n", arg=before)
    expect(error).to_contain_text(update_text)
    expect(error).not_to_contain_text("Dicoba lagi")
    assert page.locator("#status").get_attribute("data-retry-at") == ""
    shots(page, "13-perlu-pembaruan")
    settled = syncs(page)
    page.wait_for_timeout(8_000)  # longer than the first automatic retry (at most 6.25 s) would wait
    assert syncs(page) == settled, "the app retried a refused protocol by itself"
    phone.expect_unsent(1)
    assert off_loop(store.scalar, "SELECT count(*) FROM pengkajian WHERE uraian = :u",
                    u="Kajian yang menunggu pembaruan aplikasi") == 0

    # The office ships a version speaking the accepted protocol. The next refusal makes the app look for
    # it by itself, and she is offered it.
    set_protocol(copy, 1)  # a changed file: the server serves it as a new version
    phone.wait_idle()
    page.get_by_test_id("sync-button").click()
    expect(page.get_by_text("Versi baru tersedia.")).to_be_visible(timeout=30_000)
    page.get_by_test_id("update-button").click()
    dialog = page.locator("dialog.ask")
    expect(dialog).to_contain_text("Ada 1 perubahan yang belum terkirim.")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Perbarui sekarang").click()
    phone.expect_unsent(0)  # the new version sends what the old one kept
    expect(error).to_be_hidden()
    assert off_loop(store.scalar, "SELECT count(*) FROM pengkajian WHERE uraian = :u",
                    u="Kajian yang menunggu pembaruan aplikasi") == 1


def test_a_record_saved_while_a_sync_is_pulling_is_sent_right_after_it(phones, app_on, kader, store: Store) -> None:
    uraian = "Disimpan saat sinkron sedang menarik data"
    phone = app_on(phones())
    page = phone.page
    phone.login(*kader)
    # A slow connection (every answer 3 s late) leaves time to save while the pull is on its way.
    slow = phone.context.new_cdp_session(page)
    slow.send("Network.enable")
    slow.send("Network.emulateNetworkConditions",
              {"offline": False, "latency": 3000, "downloadThroughput": -1, "uploadThroughput": -1})
    phone.wait_idle()
    with page.expect_request(lambda r: "/api/sync/pull" in r.url):
        page.get_by_test_id("sync-button").click()
    page.evaluate("location.hash = '#/pengkajian/baru'")  # her push is over: this one misses it
    page.locator("label.choice", has_text="Masalah").click()
    page.get_by_label("Uraian").fill(uraian)
    save(page)
    assert page.locator("#status").get_attribute("class").split().count("busy") == 1, "saved after the sync"
    phone.expect_unsent(0)  # nobody presses anything
    assert off_loop(store.scalar, "SELECT count(*) FROM pengkajian WHERE uraian = :u", u=uraian) == 1
