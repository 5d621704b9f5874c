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
