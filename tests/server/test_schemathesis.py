"""Schemathesis over every operation of ``/schema/openapi.json``, by real HTTP to the live server (both
databases), as a cadre and as a kecamatan admin: valid and deliberately invalid requests alike never
get a 5xx, every 4xx is problem details with a code from the catalogue, and every answer fits the
document: its status is one the operation documents, and its media type, headers and body are the ones
documented for that status (so the description cannot drift from what the server does).

The accounts are made for this test and write only in a desa made for it (``desa``), so the writes
schemathesis generates (push, review, dusun, uploads, log-out) leave the other tests' data and tokens
alone; log-out is sent with a token logged in for that one request.

``KADER_SCHEMATHESIS_EXAMPLES`` (default 15) sets the examples per operation and caller.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.app import create_app
from server.errors import CATALOGUE
from server.exports.reports import file_names
from sync.protocol import PROTOCOL_VERSION
from tests.conftest import GEROKGAK, LiveServer, Store
from tests.syncing import Device, mutation

EXAMPLES = int(os.environ.get("KADER_SCHEMATHESIS_EXAMPLES", "15"))  # per operation, principal and mode


def operations() -> list[tuple[str, str]]:
    """Every operation the app documents, read from the app itself, so a new endpoint is fuzzed too."""
    paths = create_app().openapi_schema.to_schema()["paths"]
    return sorted((method.upper(), path) for path, item in paths.items() for method in item
                  if method in ("get", "put", "post", "delete", "patch", "head"))


OPERATIONS = operations()


@schemathesis.check
def problem_details_with_code(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                              case: schemathesis.Case) -> bool | None:
    """Every 4xx is ``application/problem+json`` with a catalogue ``code`` of that very status."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.startswith("application/problem+json"), f"4xx with content type {content_type!r}"
    if case.method.upper() == "HEAD":
        return True  # no body to a HEAD; the status said it
    body = response.json()
    code = body.get("code")
    assert code in CATALOGUE, f"4xx without a catalogue code: {body!r}"
    assert body.get("status") == response.status_code, f"problem status {body.get('status')} on {response.status_code}"
    assert body.get("detail"), f"4xx without a detail: {body!r}"
    return True


# Every answer fits the document: a documented status, a documented media type, documented headers and
# a body that validates against the schema of that status (problem details included).
CHECKS = [not_a_server_error, problem_details_with_code, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api(server: LiveServer) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{server.url}/schema/openapi.json")


@pytest.fixture(scope="module")
def desa(store: Store) -> str:
    """The cadre's desa, made for this module."""
    return store.new_desa()


@pytest.fixture(scope="module")
def accounts(store: Store, desa: str) -> dict[str, tuple[str, str]]:
    return {"cadre": store.user("kader", desa), "admin": store.user("admin", GEROKGAK)}


@pytest.fixture(scope="module")
def tokens(server: LiveServer, accounts: dict[str, tuple[str, str]]) -> dict[str, str]:
    return {who: server.login(*account, device="schemathesis") for who, account in accounts.items()}


@pytest.fixture(scope="module")
def known(server: LiveServer, store: Store, tokens: dict[str, str], desa: str) -> dict[str, Any]:
    """Real values for path parameters, so generated requests also reach real records, files and
    conflicts of the test's desa, not only 404s: a photo, a pengkajian and an open conflict on it."""
    photo = b"\xff\xd8\xff\xe0" + os.urandom(64)
    sha256 = hashlib.sha256(photo).hexdigest()
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {tokens['cadre']}"}) as c:
        assert c.put(f"/api/attachments/{sha256}", content=photo, headers={"content-type": "image/jpeg"}
                     ).status_code == 201
    first = Device(server, tokens["cadre"])
    second = Device(server, server.login(*store.user("kader", desa), device="schemathesis-2"))
    record = uuid.uuid4()
    assert first.push(mutation("create", "pengkajian", record, {"jenis": "masalah", "uraian": "Banjir"})
                      )[0]["status"] == "applied"
    first.push(mutation("update", "pengkajian", record, {"uraian": "Banjir rob"}, base_version=1))
    [clash] = second.push(mutation("update", "pengkajian", record, {"uraian": "Banjir bandang"}, base_version=1))
    assert clash["status"] == "conflict", clash
    return {"code": desa, "desa_code": desa, "sha256": sha256, "table": "pengkajian",
            "record_id": str(record), "conflict_id": clash["conflict_id"]}


def realistic(operation: Any, known: dict[str, Any]) -> st.SearchStrategy[schemathesis.Case]:
    """Valid requests on real path values; a push speaks the current protocol, so it gets past version
    negotiation into the engine (random protocol versions mostly earn a 426)."""
    names = {p.name for p in operation.path_parameters}
    fixed = {name: value for name, value in known.items() if name in names}
    berkas = st.sampled_from(file_names()) if "berkas" in names else st.none()

    def current_protocol(case: schemathesis.Case) -> schemathesis.Case:
        if isinstance(case.body, dict) and "protocol_version" in case.body:
            case.body["protocol_version"] = PROTOCOL_VERSION
        return case

    return berkas.flatmap(lambda b: operation.as_strategy(
        generation_mode=schemathesis.GenerationMode.POSITIVE,
        path_parameters={**fixed, **({"berkas": b} if b else {})})).map(current_protocol)


@pytest.fixture
def session() -> Iterator[Any]:
    import requests

    with requests.Session() as s:
        yield s


def test_the_fuzzed_schema_is_the_apps_whole_api(api: schemathesis.BaseSchema) -> None:
    live = sorted((op.method.upper(), op.path) for op in (r.ok() for r in api.get_all_operations()))
    assert live == OPERATIONS
    assert {("POST", "/api/sync/push"), ("PUT", "/api/attachments/{sha256}")} <= set(OPERATIONS)
    # The hand-read bodies are described, so schemathesis generates them.
    assert api["/api/sync/push"]["POST"].body and api["/api/attachments/{sha256}"]["PUT"].body


@pytest.mark.parametrize("who", ["cadre", "admin"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_operation_answers_5xx_and_every_4xx_has_a_code(
    server: LiveServer, api: schemathesis.BaseSchema, tokens: dict[str, str], accounts: dict[str, tuple[str, str]],
    known: dict[str, Any], session: Any, method: str, path: str, who: str,
) -> None:
    operation = api[path][method]
    strategy = st.one_of(operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
                         operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
                         realistic(operation, known))
    seen: dict[int, int] = {}

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck), print_blob=True)
    def run(case: schemathesis.Case) -> None:
        token = tokens[who]
        if path == "/api/auth/logout":
            token = server.login(*accounts[who], device="schemathesis-logout")  # never a token others use
        headers = {"Authorization": f"Bearer {token}"}
        response = case.call(base_url=server.url, session=session, headers=headers, timeout=30)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
    assert seen and all(status < 500 for status in seen), seen
    # The tokens still work: nothing generated revoked them.
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {tokens[who]}"}) as c:
        me = c.get("/api/auth/me")
        assert me.status_code == 200, me.text
