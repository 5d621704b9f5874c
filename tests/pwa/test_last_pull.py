"""The office sees when each phone last received: the app names its client on the first page of a sync,
and the server notes the pull (``sync_clients.last_pull_at``, the office's "ambil" and the dashboard's
cadres not syncing)."""

from __future__ import annotations

from tests.conftest import GEROKGAK, LiveServer, Store
from tests.pwa.conftest import off_loop


def test_a_phones_sync_is_noted_as_its_last_pull(phones, app_on, store: Store, server: LiveServer) -> None:
    username, password = off_loop(store.user, "kader", off_loop(store.new_desa, GEROKGAK))
    phone = app_on(phones())
    phone.login(username, password)
    phone.sync()
    client_id = phone.page.evaluate("async () => (await import('/js/db.js')).clientId()")
    noted = off_loop(store.rows, "SELECT c.last_pull_at FROM sync_clients c JOIN users u ON u.id = c.user_id "
                                 "WHERE u.username = :u", u=username)
    assert len(noted) == 1 and noted[0][0] is not None, noted
    ids = off_loop(store.rows, "SELECT id FROM sync_clients c WHERE c.user_id = (SELECT id FROM users "
                               "WHERE username = :u)", u=username)
    assert str(ids[0][0]).replace("-", "") == client_id.replace("-", "")
