"""Log-in, device tokens, revocation and throttling, over real HTTP on both databases."""

from __future__ import annotations

import uuid

from tests.conftest import DESA_GANRA, DESA_GEROKGAK, GEROKGAK, LiveServer, Store


def test_login_returns_a_device_token_that_opens_the_api(server: LiveServer, store: Store) -> None:
    username, password = store.user("kader", DESA_GEROKGAK)
    token = server.login(username, password, device="HP Samsung A03")
    with server.client(token) as c:
        me = c.get("/api/auth/me").json()
    assert me == {"username": username, "nama": username, "role": "kader", "wilayah_code": DESA_GEROKGAK,
                  "wilayah_name": "Gerokgak"}
    stored = store.scalar("SELECT token_hash FROM devices WHERE name = 'HP Samsung A03' "
                          "AND user_id = (SELECT id FROM users WHERE username = :u)", u=username)
    assert stored and token not in stored and len(stored) == 64


def test_wrong_password_and_unknown_user_get_the_same_401(server: LiveServer, store: Store) -> None:
    username, _ = store.user("kader", DESA_GANRA)
    with server.client() as c:
        wrong = c.post("/api/auth/login", json={"username": username, "password": "salah-salah"})
        unknown = c.post("/api/auth/login", json={"username": "tidak-ada-orangnya", "password": "salah-salah"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "auth_invalid_credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_api_refuses_missing_and_unknown_tokens(server: LiveServer) -> None:
    with server.client() as c:
        assert c.get("/api/desa").json()["code"] == "auth_required"
    with server.client("not-a-real-token") as c:
        r = c.get("/api/desa")
    assert r.status_code == 401 and r.json()["code"] == "auth_invalid_token"


def test_logout_revokes_only_that_device(server: LiveServer, store: Store) -> None:
    username, password = store.user("admin", GEROKGAK)
    phone, laptop = server.login(username, password, "phone"), server.login(username, password, "laptop")
    with server.client(phone) as c:
        assert c.post("/api/auth/logout").status_code == 204
        assert c.get("/api/desa").status_code == 401
    with server.client(laptop) as c:
        assert c.get("/api/desa").status_code == 200


def test_repeated_failures_lock_the_account_even_for_the_right_password(server: LiveServer, store: Store) -> None:
    username, password = store.user("kader", DESA_GEROKGAK)
    with server.client() as c:
        for _ in range(5):
            assert c.post("/api/auth/login", json={"username": username, "password": "bukan-ini"}).status_code == 401
        locked = c.post("/api/auth/login", json={"username": username, "password": password})
    assert locked.status_code == 429
    assert locked.json()["code"] == "too_many_attempts"
    assert int(locked.headers["retry-after"]) > 0
    assert store.scalar("SELECT failed_logins FROM users WHERE username = :u", u=username) == 5


def test_the_lock_answers_alike_whether_or_not_the_username_exists(server: LiveServer, store: Store) -> None:
    """No enumeration through the lock: an unknown username is locked after as many failures, for as
    long, with the same answer, as an existing one."""
    existing, _ = store.user("kader", DESA_GEROKGAK)
    unknown = f"tidak-ada-{uuid.uuid4().hex[:8]}"
    answers = {}
    with server.client() as c:
        for name in (existing, unknown):
            tries = [c.post("/api/auth/login", json={"username": name, "password": "bukan-ini"}) for _ in range(6)]
            answers[name] = [(r.status_code, r.json()["code"], r.json()["detail"]) for r in tries]
            assert 25 <= int(tries[-1].headers["retry-after"]) <= 31, name
    assert answers[existing] == answers[unknown]
    assert [status for status, _, _ in answers[unknown]] == [401] * 5 + [429]
    assert store.scalar("SELECT count(*) FROM users WHERE username = :u", u=unknown) == 0


def test_a_successful_login_resets_the_failure_count(server: LiveServer, store: Store) -> None:
    username, password = store.user("kader", DESA_GEROKGAK)
    with server.client() as c:
        for _ in range(3):
            c.post("/api/auth/login", json={"username": username, "password": "bukan-ini"})
    server.login(username, password)
    assert store.scalar("SELECT failed_logins FROM users WHERE username = :u", u=username) == 0
