"""A client generated from ``/schema/openapi.json`` (openapi-python-client) syncs with the live server (both
databases): it logs in, pushes records built from the per-table types the document describes, pulls them
back, and reads refusals as the problem type of their status. A description that stopped fitting the
server breaks here: the generated client refuses a status or a body the document does not describe.
"""

from __future__ import annotations

import datetime as dt
import importlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import GANRA, LiveServer, Store

PACKAGE = "kader_generated_client"
# Photos are uploaded as raw bytes of their own media type, which the generator does not handle; the
# rest of the API is generated as described.
CONFIG = """\
post_hooks: []
content_type_overrides:
  image/jpeg: application/octet-stream
  image/png: application/octet-stream
  image/webp: application/octet-stream
"""


@pytest.fixture(scope="module")
def generated(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package, generated from the document the live server serves."""
    where = tmp_path_factory.mktemp("client")
    document = where / "openapi.json"
    document.write_bytes(httpx.get(f"{server.url}/schema/openapi.json", timeout=30).content)
    (where / "config.yaml").write_text(CONFIG)
    script = Path(sys.executable).with_name("openapi-python-client")
    done = subprocess.run([str(script), "generate", "--path", str(document), "--output-path", str(where / PACKAGE),
                           "--meta", "none", "--config", str(where / "config.yaml")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    # Every part of the document was understood: nothing left out of the client.
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def part(client: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{client.__name__}.{name}")


@pytest.fixture(scope="module")
def desa(store: Store) -> str:
    return store.new_desa(GANRA)  # a desa of its own: what the client pulls is what it pushed


@pytest.fixture(scope="module")
def cadre(server: LiveServer, store: Store, generated: ModuleType, desa: str) -> Any:
    """The cadre's authenticated client, logged in through the generated client."""
    username, password = store.user("kader", desa)
    models = part(generated, "models")
    login = part(generated, "api.auth.login")
    anonymous = generated.Client(base_url=server.url, raise_on_unexpected_status=True)
    result = login.sync(client=anonymous, body=models.LoginRequest(username=username, password=password,
                                                                   device_name="klien buatan"))
    assert isinstance(result, models.LoginResult), result
    return generated.AuthenticatedClient(base_url=server.url, token=result.token, raise_on_unexpected_status=True)


def test_a_generated_client_pushes_typed_records_and_pulls_them_back(generated: ModuleType, cadre: Any,
                                                                     desa: str) -> None:
    models = part(generated, "models")
    push, pull = part(generated, "api.sync.push"), part(generated, "api.sync.pull")
    client_id, pengkajian, musyawarah = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    body = models.PushRequest(client_id=client_id, protocol_version=1, app_version="klien-buatan", mutations=[
        models.PengkajianCreateMutation(
            op="create", table="pengkajian", mutation_id=uuid.uuid4(), seq=1, record_id=pengkajian,
            changes=models.PengkajianCreateChanges(jenis=models.JenisPengkajian("masalah"),
                                                   uraian="Jalan dusun tergenang", skor_parah=4)),
        models.MusyawarahCreateMutation(
            op="create", table="musyawarah", mutation_id=uuid.uuid4(), seq=2, record_id=musyawarah,
            changes=models.MusyawarahCreateChanges(
                jenis=models.JenisMusyawarah("musyawarah_dusun"), tanggal=dt.date(2026, 3, 2), tempat="Balai dusun",
                narasumber=[models.Narasumber(nama="Bu Wayan", unsur="PKK")])),
        models.PengkajianUpdateMutation(
            op="update", table="pengkajian", mutation_id=uuid.uuid4(), seq=3, record_id=pengkajian, base_version=1,
            changes=models.PengkajianChanges(penyebab="Saluran tersumbat")),
    ])
    answer = push.sync(client=cadre, body=body)
    assert isinstance(answer, models.PushResponse), answer
    assert [r.status.value for r in answer.results] == ["applied", "applied", "applied"]

    rows: dict[uuid.UUID, dict[str, Any]] = {}
    cursor = None
    while True:
        page = pull.sync(client=cadre, cursor=cursor, limit=100, protocol_version=1, client_id=client_id)
        assert isinstance(page, models.PullResponse), page
        rows |= {c.record_id: c.row.to_dict() for c in page.changes if c.row is not None}
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert rows[pengkajian]["uraian"] == "Jalan dusun tergenang"
    assert rows[pengkajian]["penyebab"] == "Saluran tersumbat" and rows[pengkajian]["skor_parah"] == 4
    assert rows[pengkajian]["desa_code"] == desa and rows[pengkajian]["version"] == 2
    assert rows[musyawarah]["tempat"] == "Balai dusun" and rows[musyawarah]["tanggal"] == "2026-03-02"
    assert rows[musyawarah]["narasumber"] == [{"nama": "Bu Wayan", "unsur": "PKK"}]


def test_a_generated_client_reads_refusals_as_the_problem_of_their_status(
        server: LiveServer, generated: ModuleType, cadre: Any) -> None:
    models = part(generated, "models")
    history, pull = part(generated, "api.sync.record_history"), part(generated, "api.sync.pull")
    login = part(generated, "api.auth.login")

    missing = history.sync(client=cadre, table="pengkajian", record_id=uuid.uuid4())
    assert isinstance(missing, models.Problem404) and missing.code.value == "not_found" and missing.status == 404

    old = pull.sync(client=cadre, protocol_version=99)
    assert isinstance(old, models.Problem426) and old.code.value == "update_required"

    gone = pull.sync(client=cadre, cursor="5@51.08.01.2009")
    assert isinstance(gone, models.Problem410) and gone.code.value == "resync_required"

    wrong = login.sync(client=generated.Client(base_url=server.url, raise_on_unexpected_status=True),
                       body=models.LoginRequest(username="tidak-ada", password="salah-sekali"))
    assert isinstance(wrong, models.Problem401) and wrong.code.value == "auth_invalid_credentials"

    anonymous = part(generated, "api.auth.me").sync(
        client=generated.Client(base_url=server.url, raise_on_unexpected_status=True))
    assert isinstance(anonymous, models.Problem401) and anonymous.code.value == "auth_required"
    assert anonymous.detail  # the plain-words reason travels with the code
