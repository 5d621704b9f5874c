"""Background Sync: the cadre saves with no signal and closes the app; when the signal returns the
service worker alone sends the outbox. A background sync that finds the server down fails, so the
browser keeps it and tries again later; that later try starts the stopped worker and delivers.

What drives what (docs/pwa.md, "Tests and benchmark"): the page is really closed and the `sync` event
really comes from Chromium's Background Sync manager when Playwright lifts its network emulation.
Chromium's own retry of a failed sync comes minutes later, so the test asks for it through the
DevTools protocol (ServiceWorker.dispatchSyncEvent), the way DevTools' "Sync" button does."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, CDPSession, expect

from tests.conftest import Store, stop_server
from tests.pwa.conftest import App, off_loop, restart
from tests.pwa.pages import new_pengkajian


def count(store: Store, uraian: str) -> int:
    return off_loop(store.scalar, "SELECT count(*) FROM pengkajian WHERE uraian = :u", u=uraian)


def wait_for_rows(store: Store, uraian: str, seconds: float = 30) -> int:
    deadline = time.monotonic() + seconds
    while (n := count(store, uraian)) == 0 and time.monotonic() < deadline:
        time.sleep(0.25)
    return n


class Devtools:
    """A DevTools session on a blank tab of the phone (no page of the app is open): watches the
    service worker and the Background Sync events Chromium records."""

    def __init__(self, context: BrowserContext) -> None:
        self.tab = context.new_page()
        self.cdp: CDPSession = context.new_cdp_session(self.tab)
        self.versions: dict[str, dict[str, Any]] = {}
        self.statuses: list[str] = []  # every running status the active worker went through
        self.registrations: dict[str, str] = {}
        self.events: list[dict[str, Any]] = []
        self.cdp.on("ServiceWorker.workerVersionUpdated", self._versions)
        self.cdp.on("ServiceWorker.workerRegistrationUpdated",
                    lambda e: self.registrations.update({r["scopeURL"]: r["registrationId"]
                                                         for r in e["registrations"]}))
        self.cdp.on("BackgroundService.backgroundServiceEventReceived",
                    lambda e: self.events.append(e["backgroundServiceEvent"]))
        self.cdp.send("ServiceWorker.enable")
        self.cdp.send("BackgroundService.startObserving", {"service": "backgroundSync"})
        self.cdp.send("BackgroundService.setRecording", {"shouldRecord": True, "service": "backgroundSync"})

    def _versions(self, event: dict[str, Any]) -> None:
        for v in event["versions"]:
            self.versions[v["versionId"]] = v
            if v["status"] == "activated":
                self.statuses.append(v["runningStatus"])

    def event_names(self) -> list[str]:
        return [e["eventName"] for e in self.events]

    def running(self) -> list[str]:
        return [v["runningStatus"] for v in self.versions.values() if v["status"] == "activated"]

    def wait(self, condition, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while not condition() and time.monotonic() < deadline:
            self.tab.wait_for_timeout(100)  # lets Playwright deliver the DevTools events meanwhile


def saved_offline_then_closed(phone: App, uraian: str) -> list[str]:
    """Saves a record with no signal, checks the app asked for a background sync, closes the app.
    Returns the registered sync tags."""
    phone.context.set_offline(True)
    new_pengkajian(phone.page, uraian)
    phone.expect_unsent(1)
    tags = phone.page.evaluate("navigator.serviceWorker.ready.then((r) => r.sync.getTags())")
    phone.page.close()
    return tags


def test_with_the_app_closed_the_service_worker_sends_the_outbox_when_the_signal_returns(
        phones, app_on, kader, store: Store) -> None:
    uraian = "Dikirim oleh service worker saat aplikasi tertutup"
    phone = app_on(phones())
    phone.login(*kader)
    devtools = Devtools(phone.context)
    assert saved_offline_then_closed(phone, uraian) == ["kader-sync"]
    assert phone.context.pages == [devtools.tab]  # no window of the app is left
    devtools.wait(lambda: "Registered sync" in devtools.event_names())
    assert count(store, uraian) == 0

    phone.context.set_offline(False)
    assert wait_for_rows(store, uraian) == 1
    devtools.wait(lambda: "Sync completed" in devtools.event_names())
    assert "Dispatched sync event" in devtools.event_names()

    again = App(phone.context, phone.server)  # opening the app again: nothing left to send
    again.open()
    again.expect_unsent(0)
    assert count(store, uraian) == 1


def test_a_background_sync_that_finds_the_server_down_is_tried_again_and_wakes_the_stopped_worker(
        phones, kader, store: Store, own_server, db_url: str, tmp_path: Path) -> None:
    uraian = "Sinkron latar dicoba lagi setelah server hidup"
    live = own_server[0]
    phone = App(phones(), live)
    phone.login(*kader)
    devtools = Devtools(phone.context)
    assert saved_offline_then_closed(phone, uraian) == ["kader-sync"]
    stop_server(live)

    phone.context.set_offline(False)  # the sync event comes, the server does not answer
    devtools.wait(lambda: {"sync event failed", "Sync completed"} & set(devtools.event_names()))
    print(devtools.events)
    assert "sync event failed" in devtools.event_names(), devtools.events
    assert "Sync completed" not in devtools.event_names()

    restart(own_server, db_url, tmp_path / "data")
    devtools.cdp.send("ServiceWorker.stopAllWorkers")
    devtools.wait(lambda: devtools.running() == ["stopped"])
    assert devtools.running() == ["stopped"]
    assert count(store, uraian) == 0
    stopped_at = len(devtools.statuses)

    [registration] = devtools.registrations.values()
    devtools.cdp.send("ServiceWorker.dispatchSyncEvent", {
        "origin": live.url, "registrationId": registration, "tag": "kader-sync", "lastChance": False})
    assert wait_for_rows(store, uraian) == 1
    devtools.wait(lambda: "running" in devtools.statuses[stopped_at:])
    assert "running" in devtools.statuses[stopped_at:], devtools.statuses  # started for the event

    again = App(phone.context, live)
    again.open()
    again.expect_unsent(0)
    expect(again.page.get_by_test_id("sync-error")).to_be_hidden()
    assert count(store, uraian) == 1
