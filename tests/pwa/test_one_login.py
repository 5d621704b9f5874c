"""A phone logs in once and keeps its device token: reloading, closing and reopening the app, syncing
by hand, after a save and when the signal returns never asks for the password again nor logs in behind
her back. Each log-in costs the server an argon2 check (about 0.2 CPU-s), so a phone that logged in on
every sync would cost the server more than its sync does (bench/README.md)."""

from __future__ import annotations

from playwright.sync_api import Request, expect

from tests.conftest import LiveServer, Store
from tests.pwa.conftest import off_loop
from tests.pwa.pages import new_pengkajian


def test_a_phone_logs_in_once_and_keeps_its_token(phones, app_on, kader, store: Store, server: LiveServer) -> None:
    context = phones()
    logins: list[str] = []

    def seen(request: Request) -> None:
        if request.url.endswith("/api/auth/login"):
            logins.append(request.method)

    context.on("request", seen)  # the page's and the service worker's requests alike
    phone = app_on(context)
    phone.login(*kader)
    assert logins == ["POST"]
    password = phone.page.get_by_label("Kata sandi")

    phone.sync()
    phone.page.reload()
    expect(phone.page.get_by_role("heading", name="Desa Gerokgak")).to_be_visible()
    expect(password).to_have_count(0)
    phone.sync()

    # The app closed and opened again (a new tab of the same phone).
    phone.page.close()
    phone = app_on(context)
    phone.open()
    expect(phone.page.get_by_role("heading", name="Desa Gerokgak")).to_be_visible()
    expect(phone.page.get_by_label("Kata sandi")).to_have_count(0)

    # Work without signal, then the signal returns: the sync starts by itself with the kept token.
    context.set_offline(True)
    new_pengkajian(phone.page, "Sumur warga kering di musim kemarau (satu kali masuk)")
    phone.expect_unsent(1)
    context.set_offline(False)
    phone.expect_unsent(0)
    phone.sync()

    assert logins == ["POST"], logins
    devices = off_loop(store.scalar, "SELECT count(*) FROM devices d JOIN users u ON u.id = d.user_id "
                                     "WHERE u.username = :u", u=kader[0])
    assert devices == 1
    assert phone.errors == []
