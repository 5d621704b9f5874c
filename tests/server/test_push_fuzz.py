"""Hostile pushes, by real HTTP to the live server (both databases): random bytes, random JSON, envelopes
and mutations with one defect each (wrong types, unknown tables, fields and ops, non-UUID ids, NaN and
Infinity, duplicated keys, invalid UTF-8, deep nesting, server-owned fields, another desa's records and
references to them), valid pushes mutated at random, gzip that is corrupt, truncated or a bomb, strings
near the body limit.

Every answer is a 4xx problem with a catalogue code, or a 200 whose results name every mutation and
give each rejection a per-mutation code; never a 5xx. A refused request changes nothing stored (every
synced table, conflicts, history, processed mutations, clients, the change counter); a push whose
mutations are all rejected stores only their answers; nothing ever touches the other desa.

``KADER_FUZZ_EXAMPLES`` (default 80) sets the number of random pushes per database.
"""

from __future__ import annotations

import gzip
import json
import os
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import CATALOGUE
from tests.conftest import LiveServer, Store
from tests.syncing import Device, mutation

EXAMPLES = int(os.environ.get("KADER_FUZZ_EXAMPLES", "80"))
MAX_BODY = 5 * 1024 * 1024  # the test server's KADER_MAX_BODY_BYTES (the default)
PER_MUTATION_CODES = {"unknown_table", "forbidden", "invalid_fields", "missing_fields", "out_of_scope", "not_found",
                      "immutable_field", "bad_base_version", "invalid_reference", "append_only", "integrity"}
SYNCED = ["dusun", "kader", "pengkajian", "musyawarah", "kehadiran", "usulan", "komentar", "conflicts"]
BOOKKEEPING = ["history", "processed_mutations", "sync_clients", "sync_counter"]


@dataclass
class World:
    desa: str  # the fuzzer's, made for this module
    other: str  # another desa of the kecamatan, made for this module; the fuzzer must never touch it
    fuzzer: Device
    own: dict[str, str]  # table -> a record of ``desa``
    theirs: dict[str, str]  # table -> a record of ``other``
    sent_mutation_ids: set[str] = field(default_factory=set)


def _create(device: Device, table: str, **fields: Any) -> str:
    record_id = uuid.uuid4()
    [result] = device.push(mutation("create", table, record_id, fields))
    assert result["status"] == "applied", result
    return str(record_id)


def _records(device: Device) -> dict[str, str]:
    musyawarah = _create(device, "musyawarah", jenis="musyawarah_dusun", tanggal="2026-08-17")
    pengkajian = _create(device, "pengkajian", jenis="masalah", uraian="Jalan tergenang")
    return {"musyawarah": musyawarah, "pengkajian": pengkajian,
            "kehadiran": _create(device, "kehadiran", musyawarah_id=musyawarah, nama="Ni Luh", jenis_kelamin="P"),
            "usulan": _create(device, "usulan", kegiatan="Saluran", pengkajian_id=pengkajian)}


@pytest.fixture(scope="module")
def world(server: LiveServer, store: Store) -> World:
    desa, other_desa = store.new_desa(), store.new_desa()
    fuzzer = Device(server, server.login(*store.user("kader", desa), device="fuzz"))
    other = Device(server, server.login(*store.user("kader", other_desa), device="fuzz-other"))
    return World(desa, other_desa, fuzzer, _records(fuzzer), _records(other))


def snapshot(store: Store) -> dict[str, Any]:
    """Every row of the tables a push may write, as sortable text."""

    async def work(s: AsyncSession) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for table in SYNCED + BOOKKEEPING:
            rows = (await s.execute(text(f"SELECT * FROM {table}"))).mappings().all()
            out[table] = sorted(json.dumps(dict(r), default=str, sort_keys=True) for r in rows)
        return out

    return store.run(work)


def other_desa(snap: dict[str, Any], code: str) -> dict[str, list[str]]:
    return {t: [r for r in rows if code in r] for t, rows in snap.items() if t in SYNCED + ["history"]}


# ---- what is sent ------------------------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)
NOT_A_STRING = st.integers() | st.booleans() | st.lists(st.integers(), max_size=2) | st.dictionaries(
    st.text(max_size=3), st.integers(), max_size=2)
NOT_A_UUID = st.text(max_size=40).filter(lambda s: not _is_uuid(s)) | st.integers() | st.none()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


@dataclass
class Payload:
    body: bytes
    headers: dict[str, str]
    must_refuse: bool  # every part of it is defective: a 4xx, or a 200 with every mutation rejected
    what: str


def envelope(client_id: uuid.UUID, mutations: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    return {"client_id": str(client_id), "protocol_version": 1, "app_version": "fuzz", "mutations": mutations, **over}


def drawn_mutation(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """A mutation for a strategy: its text has the same length every time (hypothesis replays draws, and
    a growing ``seq`` would change the bounds of what is drawn from it)."""
    m = mutation(*args, **kwargs)
    m["seq"] = 1
    return m


def valid_create(table: str = "pengkajian") -> dict[str, Any]:
    fields = {"pengkajian": {"jenis": "potensi", "uraian": "Mata air"}, "usulan": {"kegiatan": "Sumur bor"},
              "musyawarah": {"jenis": "musyawarah_dusun", "tanggal": "2026-09-01"}}[table]
    return drawn_mutation("create", table, uuid.uuid4(), dict(fields))


@st.composite
def defective_mutation(draw: st.DrawFn, world: World) -> tuple[dict[str, Any], str]:
    """A mutation with exactly one thing wrong that the server must reject; returns (mutation, defect)."""
    kind = draw(st.sampled_from(["unknown_table", "unknown_field", "wrong_type", "server_field", "too_long",
                                 "other_record", "other_reference", "other_desa_code", "missing_field",
                                 "bad_base_version", "huge_number"]))
    m = valid_create(draw(st.sampled_from(["pengkajian", "usulan", "musyawarah"])))
    changes = m["changes"]
    if kind == "unknown_table":
        m["table"] = draw(st.text(min_size=1, max_size=40).filter(lambda t: t not in SYNCED))
    elif kind == "unknown_field":
        changes[draw(st.text(min_size=1, max_size=30).filter(lambda f: f not in _KNOWN_FIELDS))] = draw(JSON)
    elif kind == "wrong_type":
        name = {"pengkajian": "uraian", "usulan": "kegiatan", "musyawarah": "jenis"}[m["table"]]
        changes[name] = draw(NOT_A_STRING)
    elif kind == "server_field":
        changes[draw(st.sampled_from(["version", "change_seq", "review_state", "has_conflict", "created_by",
                                      "skor_total", "deleted_at", "edited_by_admin", "id"]))] = draw(JSON)
    elif kind == "too_long":
        changes["uraian" if m["table"] == "pengkajian" else "lokasi" if m["table"] == "usulan" else "agenda"] = (
            draw(st.sampled_from(["x", "é", "🌾", "<script>"])) * draw(st.integers(20_001, 60_000)))
    elif kind == "other_record":
        table = draw(st.sampled_from(sorted(world.theirs)))
        op = draw(st.sampled_from(["create", "update", "delete"]))
        m = drawn_mutation(op, table, uuid.UUID(world.theirs[table]),
                           {"catatan": "x"} if table == "usulan" else {}, base_version=1)
        if op == "delete":
            m.pop("changes", None)
    elif kind == "other_reference":
        m = draw(st.sampled_from([
            drawn_mutation("create", "kehadiran", uuid.uuid4(), {"musyawarah_id": world.theirs["musyawarah"],
                                                                  "nama": "Penyusup", "jenis_kelamin": "L"}),
            drawn_mutation("create", "usulan", uuid.uuid4(),
                           {"kegiatan": "x", "pengkajian_id": world.theirs["pengkajian"]}),
            drawn_mutation("update", "usulan", uuid.UUID(world.own["usulan"]),
                           {"musyawarah_id": world.theirs["musyawarah"]}, base_version=1),
        ]))
    elif kind == "other_desa_code":
        changes["desa_code"] = draw(st.sampled_from([world.other, "73.12.07.2002", "51.08.01.2009"]))
    elif kind == "missing_field":
        changes.pop(sorted(changes)[0])
    elif kind == "bad_base_version":
        m = drawn_mutation("update", "pengkajian", uuid.UUID(world.own["pengkajian"]), {"penyebab": "x"},
                           base_version=draw(st.integers(10**6, 2**62)))
    elif kind == "huge_number":
        m = valid_create("usulan")
        m["changes"][draw(st.sampled_from(["volume", "biaya", "penerima_laki", "skor_parah", "sdgs_desa"]))] = draw(
            st.sampled_from([10**30, -(10**30), 1e308, -1.5, 2**64]))
    return m, kind


_KNOWN_FIELDS = {"jenis", "uraian", "kegiatan", "tanggal", "bidang_code", "penyebab", "potensi_tersedia", "lokasi",
                 "usulan_tindakan", "dusun_id", "kelompok_sumber", "latitude", "longitude", "akurasi_m", "desa_code",
                 "musyawarah_id", "pengkajian_id", "sub_bidang_code", "kode_kegiatan", "volume", "satuan", "biaya",
                 "penerima_laki", "penerima_perempuan", "penerima_artm", "sumber_dana", "pola_pelaksanaan",
                 "sdgs_desa", "catatan", "kelompok", "jam_mulai", "jam_selesai", "tempat", "pimpinan", "notulis",
                 "pimpinan_unsur", "narasumber", "agenda", "notulen", "keputusan", "foto", "skor_dirasakan",
                 "skor_parah", "skor_pendapatan", "skor_sering", "skor_potensi"}


@st.composite
def envelope_defect(draw: st.DrawFn, world: World) -> Payload:
    """A push whose envelope is wrong: the whole request is refused."""
    body = envelope(uuid.uuid4(), [valid_create()])
    kind = draw(st.sampled_from(["client_id", "mutation_id", "record_id", "op", "protocol", "app_version",
                                 "unknown_key", "missing_key", "mutations_type", "too_many", "seq", "not_object"]))
    if kind == "client_id":
        body["client_id"] = draw(NOT_A_UUID)
    elif kind in ("mutation_id", "record_id"):
        body["mutations"][0][kind] = draw(NOT_A_UUID)
    elif kind == "op":
        body["mutations"][0]["op"] = draw(st.text(max_size=10).filter(lambda o: o not in ("create", "update",
                                                                                           "delete")) | JSON)
    elif kind == "protocol":
        body["protocol_version"] = draw(st.integers().filter(lambda v: v != 1) | st.text(max_size=3) | st.none())
    elif kind == "app_version":
        body["app_version"] = draw(st.text(min_size=41, max_size=60) | NOT_A_STRING)
    elif kind == "unknown_key":
        body[draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in body))] = draw(JSON)
    elif kind == "missing_key":
        body.pop(draw(st.sampled_from(["client_id", "protocol_version", "app_version", "mutations"])))
    elif kind == "mutations_type":
        body["mutations"] = draw(JSON.filter(lambda v: not isinstance(v, list) or (v and v != [{}])) | st.just([{}]))
    elif kind == "too_many":
        body["mutations"] = [valid_create() for _ in range(501)]
    elif kind == "seq":
        body["mutations"][0]["seq"] = draw(st.integers(max_value=-1) | st.text(max_size=3) | st.floats())
    elif kind == "not_object":
        return Payload(json.dumps(draw(JSON.filter(lambda v: not isinstance(v, dict)))).encode(),
                       {"content-type": "application/json"}, True, "envelope:not_object")
    return Payload(json.dumps(body).encode(), {"content-type": "application/json"}, True, f"envelope:{kind}")


@st.composite
def defective_batch(draw: st.DrawFn, world: World) -> Payload:
    picked = draw(st.lists(defective_mutation(world), min_size=1, max_size=5))
    body = envelope(world.fuzzer.client_id, [m for m, _ in picked])
    return Payload(json.dumps(body).encode(), {"content-type": "application/json"}, True,
                   "mutations:" + ",".join(kind for _, kind in picked))


@st.composite
def textual_defect(draw: st.DrawFn, world: World) -> Payload:
    """Defects only raw JSON text can carry."""
    kind = draw(st.sampled_from(["nan", "duplicate_keys", "invalid_utf8", "deep_nesting", "truncated", "bom",
                                 "lone_surrogate", "nul"]))
    m = valid_create()
    text_body = json.dumps(envelope(world.fuzzer.client_id, [m]))
    must_refuse = True
    if kind == "nan":
        token = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999"]))
        field_name = draw(st.sampled_from(["latitude", "akurasi_m", "skor_parah"]))
        raw = text_body.replace('"uraian": "Mata air"', f'"uraian": "Mata air", "{field_name}": {token}')
    elif kind == "duplicate_keys":
        # The same key twice, the later one defective: a duplicate must not smuggle anything past the checks.
        raw = text_body.replace('"uraian": "Mata air"', '"uraian": "Mata air", "uraian": ' + json.dumps(
            draw(NOT_A_STRING)))
    elif kind == "invalid_utf8":
        junk = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf0\x28\x8c\x28", b"\x80\x80"]))
        return Payload(text_body.encode().replace(b"Mata air", b"Mata " + junk + b"air"),
                       {"content-type": "application/json"}, True, f"text:{kind}")
    elif kind == "lone_surrogate":
        raw = text_body.replace("Mata air", "Mata \\ud800 air")  # not JSON msgspec reads
    elif kind == "nul":
        raw = text_body.replace("Mata air", "Mata \\u0000 air")  # legal JSON, refused for PostgreSQL's sake
    elif kind == "deep_nesting":
        depth = draw(st.integers(100, 50_000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        raw = text_body.replace('"Mata air"', opener * depth + "1" + closer * depth)
    elif kind == "truncated":
        raw = text_body[:draw(st.integers(0, len(text_body) - 1))]
    else:  # bom
        raw = "\ufeff" + text_body
        must_refuse = False  # a BOM in front is tolerated or refused, either is fine
    return Payload(raw.encode("utf-8", "surrogatepass"), {"content-type": "application/json"}, must_refuse,
                   f"text:{kind}")


@st.composite
def mutated_valid(draw: st.DrawFn, world: World) -> Payload:
    """A valid push with one random change somewhere in it: may or may not still be valid."""
    body = envelope(world.fuzzer.client_id, [valid_create(draw(st.sampled_from(["pengkajian", "usulan"])))])
    path: list[Any] = []
    node: Any = body
    while isinstance(node, (dict, list)) and node and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else list(range(len(node)))))
        path.append(key)
        node = node[key]
    parent: Any = body
    for key in path[:-1]:
        parent = parent[key]
    if path:
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON)
    return Payload(json.dumps(body).encode(), {"content-type": "application/json"}, False, f"mutated:{path}")


def noise(world: World) -> st.SearchStrategy[Payload]:
    return st.one_of(
        st.binary(max_size=300).map(lambda b: Payload(b, {"content-type": "application/json"}, True, "bytes")),
        JSON.map(lambda v: Payload(json.dumps(v).encode(), {"content-type": "application/json"},
                                   not isinstance(v, dict), "json")),
    )


def gzipped(payloads: st.SearchStrategy[Payload]) -> st.SearchStrategy[Payload]:
    return payloads.map(lambda p: Payload(gzip.compress(p.body), {**p.headers, "content-encoding": "gzip"},
                                          p.must_refuse, p.what + "+gzip"))


def hostile(world: World) -> st.SearchStrategy[Payload]:
    each = st.one_of(noise(world), envelope_defect(world), defective_batch(world), textual_defect(world),
                     mutated_valid(world))
    return st.one_of(each, gzipped(each))


# ---- what must come back -----------------------------------------------------------------------------------------


def send(server: LiveServer, world: World, payload: Payload) -> httpx.Response:
    with server.client(world.fuzzer.token) as c:
        return c.post("/api/sync/push", content=payload.body, headers=payload.headers)


def check_answer(store: Store, world: World, payload: Payload, response: httpx.Response, before: dict[str, Any]
                 ) -> None:
    status = response.status_code
    assert status < 500, (payload.what, status, response.text[:500])
    after = snapshot(store)
    # the other desa is never touched
    assert other_desa(after, world.other) == other_desa(before, world.other), payload.what
    if status >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), payload.what
        problem = response.json()
        assert problem["code"] in CATALOGUE and problem["status"] == status, (payload.what, problem)
        assert after == before, (payload.what, "a refused push changed what is stored")
        return
    assert status == 200, (payload.what, status)
    sent = json.loads(gzip.decompress(payload.body) if "content-encoding" in payload.headers else payload.body)
    results = response.json()["results"]
    assert [r["mutation_id"] for r in results] == [m["mutation_id"] for m in sent["mutations"]], payload.what
    for r in results:
        assert r["status"] in ("applied", "merged", "conflict", "rejected"), (payload.what, r)
        if r["status"] == "rejected":
            assert r["error_code"] in PER_MUTATION_CODES and r["reason"], (payload.what, r)
    if payload.must_refuse:
        assert {r["status"] for r in results} == {"rejected"}, (payload.what, results)
    if all(r["status"] == "rejected" for r in results):
        for table in SYNCED + ["history", "sync_counter"]:
            assert after[table] == before[table], (payload.what, table)
        new = {r["mutation_id"] for r in results} - world.sent_mutation_ids
        assert len(after["processed_mutations"]) - len(before["processed_mutations"]) == len(new), payload.what
    world.sent_mutation_ids |= {m["mutation_id"] for m in sent["mutations"]}


def test_hostile_pushes_get_a_coded_answer_and_change_nothing(server: LiveServer, store: Store, world: World) -> None:
    seen: dict[str, int] = {}

    @given(payload=hostile(world))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
    def run(payload: Payload) -> None:
        before = snapshot(store)
        response = send(server, world, payload)
        check_answer(store, world, payload, response, before)
        seen[str(response.status_code)] = seen.get(str(response.status_code), 0) + 1

    run()
    assert set(seen) - {"200"}, seen  # the run reached refusals, not only answered pushes


# ---- the explicit cases: gzip, size ------------------------------------------------------------------------------


def _gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzipped (about a thousandth of that on the wire)."""
    out = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * (1 << 20)
    parts = [out.compress(chunk) for _ in range(size >> 20)]
    return b"".join(parts) + out.flush()


def _valid_push(world: World) -> bytes:
    return json.dumps(envelope(world.fuzzer.client_id, [valid_create()])).encode()


Case = tuple[bytes, dict[str, str], int, str]
GZ = {"content-type": "application/json", "content-encoding": "gzip"}
JS = {"content-type": "application/json"}


def _near_limit(world: World) -> bytes:
    """A push of one pengkajian whose uraian fills the body to just under the limit."""
    empty = json.dumps(envelope(world.fuzzer.client_id, [
        mutation("create", "pengkajian", uuid.uuid4(), {"jenis": "masalah", "uraian": ""})])).encode()
    return empty.replace(b'"uraian": ""', b'"uraian": "' + b"a" * (MAX_BODY - len(empty) - 16) + b'"')


def _corrupt_middle(data: bytes) -> bytes:
    return data[:20] + bytes(b ^ 0x5A for b in data[20:40]) + data[40:]


CASES: dict[str, Any] = {  # name -> world -> (body, headers, status, code); built only when run
    "gzip bomb (64 MiB of zeros)": lambda w: (_gzip_bomb(64 << 20), GZ, 413, "body_too_large"),
    "gzip that inflates just past the limit": lambda w: (
        gzip.compress(b'{"client_id": "' + b" " * (MAX_BODY + 10) + b'"}'), GZ, 413, "body_too_large"),
    "not gzip at all": lambda w: (_valid_push(w), GZ, 400, "bad_request"),
    "gzip with a corrupt middle": lambda w: (_corrupt_middle(gzip.compress(_valid_push(w))), GZ, 400, "bad_request"),
    "gzip cut before its checksum": lambda w: (gzip.compress(_valid_push(w))[:-8], GZ, 400, "bad_request"),
    "gzip with a wrong checksum": lambda w: (gzip.compress(_valid_push(w))[:-8] + bytes(8), GZ, 400, "bad_request"),
    "gzip followed by garbage": lambda w: (gzip.compress(_valid_push(w)) + b"garbage", GZ, 400, "bad_request"),
    "unknown content encoding": lambda w: (_valid_push(w), {**JS, "content-encoding": "br"}, 415,
                                           "unsupported_media_type"),
    "body over the limit": lambda w: (_near_limit(w) + b" " * 64, JS, 413, "body_too_large"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_gzip_and_oversized_bodies_are_refused_and_change_nothing(
    server: LiveServer, store: Store, world: World, case: str
) -> None:
    body, headers, status, code = CASES[case](world)
    before = snapshot(store)
    r = send(server, world, Payload(body, headers, True, case))
    assert (r.status_code, r.json()["code"]) == (status, code), r.text[:300]
    assert r.headers["content-type"].startswith("application/problem+json")
    assert snapshot(store) == before


def test_a_string_just_under_the_body_limit_is_rejected_per_mutation_and_stores_no_record(
    server: LiveServer, store: Store, world: World
) -> None:
    body = _near_limit(world)
    assert MAX_BODY - 64 < len(body) <= MAX_BODY
    before = snapshot(store)
    for payload in (Payload(body, {"content-type": "application/json"}, True, "near the limit"),
                    Payload(gzip.compress(body), {"content-type": "application/json", "content-encoding": "gzip"},
                            True, "near the limit, gzipped")):
        r = send(server, world, payload)
        assert r.status_code == 200, r.text[:300]
        [result] = r.json()["results"]
        assert (result["status"], result["error_code"]) == ("rejected", "invalid_fields")
    after = snapshot(store)
    assert all(after[t] == before[t] for t in SYNCED + ["history", "sync_counter"])


def test_a_valid_gzipped_push_still_applies(server: LiveServer, world: World) -> None:
    """The refusals above are not everything refused: the same push, well-formed, is taken."""
    body = _valid_push(world)
    r = send(server, world, Payload(gzip.compress(body), {"content-type": "application/json",
                                                          "content-encoding": "gzip"}, False, "valid"))
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied", r.text


# ---- the same bytes at every other JSON body -----------------------------------------------------------------------


def json_body_operations() -> list[tuple[str, str]]:
    """Every operation whose OpenAPI request body is JSON, from the app itself."""
    from server.app import create_app

    paths = create_app().openapi_schema.to_schema()["paths"]
    return sorted((method.upper(), path) for path, item in paths.items() for method, op in item.items()
                  if isinstance(op, dict) and "application/json" in op.get("requestBody", {}).get("content", {}))


# A push is asked for its version first, then read against its schema: the bad bytes sit in a known field.
UNDECODABLE = {"invalid UTF-8": b'{"protocol_version": 1, "app_version": "0.1 \xff\xfe"}',
               "nested too deeply": b'{"nama": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"}


@pytest.mark.parametrize("body", sorted(UNDECODABLE))
@pytest.mark.parametrize(("method", "path"), json_body_operations())
def test_every_json_body_refuses_undecodable_bytes_with_400(
    server: LiveServer, store: Store, world: World, method: str, path: str, body: str
) -> None:
    """Litestar lets msgspec's UnicodeDecodeError and RecursionError through as 500s; here they are 400s."""
    admin = server.login(*store.user("admin", "51.08.01"), device="fuzz-admin")
    target = path.replace("{code}", world.desa).replace("{conflict_id}", str(uuid.uuid4()))
    before = snapshot(store)
    with server.client(admin) as c:
        r = c.request(method, target, content=UNDECODABLE[body], headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (400, "bad_request"), r.text[:300]
    assert snapshot(store) == before


def test_a_nul_character_in_a_field_is_rejected_alike_on_both_databases(
    server: LiveServer, store: Store, world: World
) -> None:
    """PostgreSQL text cannot hold U+0000 (SQLite can): the one mutation is rejected, the rest of the
    batch is taken, on either database (it used to fail the whole push with a 500 on PostgreSQL)."""
    bad, good = uuid.uuid4(), uuid.uuid4()
    body = json.dumps(envelope(world.fuzzer.client_id, [
        mutation("create", "pengkajian", bad, {"jenis": "masalah", "uraian": "Mata NUL air"}),
        mutation("create", "usulan", good, {"kegiatan": "Sumur", "lokasi": "Banjar"})]))
    before = snapshot(store)
    r = send(server, world, Payload(body.replace("NUL", "\\u0000").encode(), JS, False, "nul"))
    assert r.status_code == 200, r.text[:300]
    first, second = r.json()["results"]
    assert (first["status"], first["error_code"]) == ("rejected", "invalid_fields") and "NUL" in first["reason"]
    assert second["status"] == "applied"
    after = snapshot(store)
    assert after["pengkajian"] == before["pengkajian"]
    assert store.scalar("SELECT kegiatan FROM usulan WHERE id = :id", id=str(good)) == "Sumur"


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff\\ud800"])
def test_a_lone_surrogate_is_not_json_and_changes_nothing(server: LiveServer, store: Store, world: World,
                                                          escape: str) -> None:
    body = json.dumps(envelope(world.fuzzer.client_id, [valid_create()])).replace("Mata air", f"Mata {escape} air")
    before = snapshot(store)
    r = send(server, world, Payload(body.encode(), JS, True, escape))
    assert (r.status_code, r.json()["code"]) == (400, "bad_request"), r.text[:300]
    assert snapshot(store) == before


@pytest.mark.parametrize("target", ["login", "dusun", "review note", "path"])
def test_a_nul_character_elsewhere_is_a_400_and_changes_nothing(
    server: LiveServer, store: Store, world: World, target: str
) -> None:
    admin = server.login(*store.user("admin", "51.08.01"), device="fuzz-admin")
    request = {
        "login": ("POST", "/api/auth/login", {"username": "kader\x00x", "password": "rahasia-sekali"}),
        "dusun": ("POST", f"/api/desa/{world.desa}/dusun", {"nama": "Banjar\x00Kaja"}),
        "review note": ("POST", "/api/review", {"table": "pengkajian", "ids": [world.own["pengkajian"]],
                                                "state": "perlu_perbaikan", "note": "Perbaiki\x00"}),
        "path": ("GET", f"/api/desa/{world.desa}%00/dusun", None),
    }[target]
    before = snapshot(store)
    with server.client(admin) as c:
        r = c.request(request[0], request[1], json=request[2])
    if target in ("login", "path"):
        # Whether the database is asked at all: no such user, no such desa, or text it cannot hold.
        assert r.status_code in (400, 401, 404) and r.json()["code"] in ("bad_request", "auth_invalid_credentials",
                                                                          "not_found"), r.text[:300]
    elif target == "dusun":
        # The body fits its schema; the engine's field check (the same as a push's) refuses the text.
        assert (r.status_code, r.json()["code"]) == (400, "invalid_fields"), r.text[:300]
    else:
        assert (r.status_code, r.json()["code"]) == (400, "validation_failed"), r.text[:300]
    assert snapshot(store) == before
