"""Photo attachments: named by their SHA-256, stored in the uploader's desa, readable within scope."""

from __future__ import annotations

import hashlib

import pytest

from tests.conftest import DESA_GANRA, DESA_GEROKGAK, GEROKGAK, LiveServer, Store

JPEG = b"\xff\xd8\xff\xe0" + b"foto daftar hadir" * 100


def sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@pytest.fixture
def kader_token(server: LiveServer, store: Store) -> str:
    return server.login(*store.user("kader", DESA_GEROKGAK))


def test_an_upload_is_stored_once_and_read_back(server: LiveServer, kader_token: str) -> None:
    name = sha(JPEG)
    with server.client(kader_token) as c:
        assert c.head(f"/api/attachments/{name}").status_code == 404
        first = c.put(f"/api/attachments/{name}", content=JPEG, headers={"content-type": "image/jpeg"})
        again = c.put(f"/api/attachments/{name}", content=JPEG, headers={"content-type": "image/jpeg"})
        assert c.head(f"/api/attachments/{name}").status_code == 200
        got = c.get(f"/api/attachments/{name}")
    assert (first.status_code, again.status_code) == (201, 200)
    assert got.status_code == 200 and got.content == JPEG and got.headers["content-type"] == "image/jpeg"


def test_bytes_that_do_not_match_their_name_are_refused(server: LiveServer, kader_token: str) -> None:
    with server.client(kader_token) as c:
        r = c.put(f"/api/attachments/{sha(b'other')}", content=JPEG, headers={"content-type": "image/jpeg"})
        assert r.status_code == 400 and r.json()["code"] == "invalid_fields"
        assert c.head(f"/api/attachments/{sha(b'other')}").status_code == 404


def test_only_photos_with_a_proper_name_are_taken(server: LiveServer, kader_token: str) -> None:
    with server.client(kader_token) as c:
        text = c.put(f"/api/attachments/{sha(b'x')}", content=b"x", headers={"content-type": "text/html"})
        bad_name = c.put("/api/attachments/..%2Fsecret_key", content=JPEG, headers={"content-type": "image/jpeg"})
    assert text.status_code == 415 and text.json()["code"] == "unsupported_media_type"
    assert bad_name.status_code in (400, 404)


def test_another_desa_cannot_read_it_but_the_kecamatan_admin_can(server: LiveServer, store: Store,
                                                                 kader_token: str) -> None:
    body = JPEG + b"gerokgak"
    name = sha(body)
    with server.client(kader_token) as c:
        assert c.put(f"/api/attachments/{name}", content=body, headers={"content-type": "image/jpeg"}).is_success
    with server.client(server.login(*store.user("kader", DESA_GANRA))) as c:
        assert c.get(f"/api/attachments/{name}").status_code == 404
    with server.client(server.login(*store.user("admin", GEROKGAK))) as c:
        assert c.get(f"/api/attachments/{name}").content == body
        r = c.put(f"/api/attachments/{name}", content=body, headers={"content-type": "image/jpeg"})
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
