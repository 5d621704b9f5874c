"""Malformed, mistyped and oversized bodies get a 4xx naming the problem, and nothing is stored."""

from __future__ import annotations

import pytest

from tests.conftest import DESA_GEROKGAK, GEROKGAK, LiveServer, Store


@pytest.fixture(scope="module")
def admin(server: LiveServer, store: Store) -> str:
    return server.login(*store.user("admin", GEROKGAK))


def dusun_count(store: Store) -> int:
    return store.scalar("SELECT count(*) FROM dusun")


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        (b"{not json", "bad_request", "malformed"),
        (b'{"nama": 42}', "validation_failed", "nama"),
        (b'{"nama": ""}', "validation_failed", "nama"),
        (b'{"nama": "Dusun A", "ketua": "x"}', "validation_failed", "ketua"),
        (b'{"nama": "Dusun A", "id": "not-a-uuid"}', "validation_failed", "id"),
        (b"[]", "validation_failed", "object"),
    ],
)
def test_bad_bodies_are_refused_with_a_code_and_nothing_is_stored(
    server: LiveServer, store: Store, admin: str, body: bytes, code: str, says: str
) -> None:
    before = dusun_count(store)
    with server.client(admin) as c:
        r = c.post(f"/api/desa/{DESA_GEROKGAK}/dusun", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    problem = r.json()
    assert problem["code"] == code and problem["status"] == 400
    assert says.lower() in problem["detail"].lower()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert dusun_count(store) == before


def test_an_oversized_body_is_refused_with_413_and_nothing_is_stored(
    server: LiveServer, store: Store, admin: str
) -> None:
    before = dusun_count(store)
    huge = b'{"nama": "' + b"x" * (6 * 1024 * 1024) + b'"}'
    with server.client(admin) as c:
        r = c.post(f"/api/desa/{DESA_GEROKGAK}/dusun", content=huge, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["code"] == "body_too_large"
    assert dusun_count(store) == before


def test_an_oversized_login_body_is_refused_before_any_password_is_checked(server: LiveServer) -> None:
    with server.client() as c:
        r = c.post("/api/auth/login", json={"username": "a", "password": "p" * 2000})
    assert r.status_code == 400 and "password" in r.json()["detail"]


def test_unknown_paths_and_methods_answer_with_codes(server: LiveServer, admin: str) -> None:
    with server.client(admin) as c:
        assert c.get("/api/tidak-ada").json()["code"] == "not_found"
        r = c.delete("/api/desa")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"[]", "object"),
        (b'{"client_id": "00000000-0000-4000-8000-000000000001", "protocol_version": "1", "app_version": "t", '
         b'"mutations": []}', "protocol_version"),
        (b'{"client_id": "00000000-0000-4000-8000-000000000001", "protocol_version": 1, "app_version": "t", '
         b'"mutations": {}}', "mutations"),
    ],
    ids=["array", "protocol_version as text", "mutations not a list"],
)
def test_a_push_that_is_json_but_not_a_push_is_validation_failed(
    server: LiveServer, store: Store, body: bytes, says: str
) -> None:
    """docs/sync-protocol.md: ``bad_request`` is for a body that is not JSON, ``validation_failed`` for
    JSON that does not fit the push envelope (the detail names where)."""
    token = server.login(*store.user("kader", DESA_GEROKGAK))
    before = store.scalar("SELECT count(*) FROM processed_mutations")
    with server.client(token) as c:
        r = c.post("/api/sync/push", content=body, headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (400, "validation_failed"), r.text
    assert says in r.json()["detail"]
    assert r.headers["content-type"].startswith("application/problem+json")
    assert store.scalar("SELECT count(*) FROM processed_mutations") == before
