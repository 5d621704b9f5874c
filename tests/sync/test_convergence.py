"""Convergence, as a stateful property on SQLite and PostgreSQL (DESIGN.md §3 and §5).

Three cadres' phones and a kecamatan admin create, edit and delete records of one desa offline, and
sync in random orders: pushes whose answers are lost (the server committed; the phone re-sends later
under the same mutation ids), pushes delivered twice, old batches arriving again after newer ones,
pulls in small pages and pulls cut short. At the end every device sends its whole outbox and pulls
everything. Then:

- every replica equals the server (the typed fields, the tombstone flag, the version, the conflicts);
- every value anyone typed is in the final row, in the record's history, or held in a conflict;
- no write landed on a value its writer neither saw nor started from (no blind last-write-wins);
- each mutation id got the same answer every time, and was processed exactly once;
- no record exists twice.

``KADER_PROPERTY_EXAMPLES`` sets the number of examples per database, ``KADER_PROPERTY_STEPS`` the
steps per example (CI can raise both).
"""

from __future__ import annotations

import functools
import os
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule, run_state_machine_as_test
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Conflict, History, ProcessedMutation
from sync.engine.pull import make_cursor
from sync.engine.tables import MODELS, row_to_wire
from sync.engine.writer import Actor
from sync.merge import same
from sync.vocabulary import Role
from tests.conftest import DESA_GEROKGAK, GEROKGAK, Store
from tests.sync.simclient import DEFAULTS, TRACKED, Device, SimServer, same_fields, tracked

EXAMPLES = int(os.environ.get("KADER_PROPERTY_EXAMPLES", "60"))
STEPS = int(os.environ.get("KADER_PROPERTY_STEPS", "30"))
PAGE = 3  # small pages, so that paging is exercised
MAX_RECORDS = 5  # few records per example, so that devices often edit the same one

# Small sets of values, so that two people often type the same value (no conflict) or different ones.
VALUES: dict[str, list[Any]] = {
    "uraian": ["Jalan rusak", "Banjir", "Air bersih", "Sampah"],
    "penyebab": ["", "Saluran tersumbat", "Hujan deras"],
    "lokasi": ["", "RT 01", "RT 02", "Dusun Kaja"],
    "skor_parah": [1, 2, 3, 5, None],
    "kegiatan": ["Perbaikan jalan", "Sumur bor", "Pelatihan"],
    "volume": [1.0, 2.5, 10.0, None],
    "satuan": ["m", "unit", "paket"],
}


def _new(table: str, required: str) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    optional = {f: st.sampled_from(VALUES[f]) for f in TRACKED[table] if f != required}
    return st.tuples(st.just(table), st.fixed_dictionaries({required: st.sampled_from(VALUES[required])},
                                                           optional=optional))


NEW_RECORD = _new("pengkajian", "uraian") | _new("usulan", "kegiatan")
# An edit: 1–3 (field, value) choices, as indexes into the record's fields and that field's values.
EDIT = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4)), min_size=1, max_size=3)


def step(fn: Callable[..., None]) -> Callable[..., None]:
    """Marks the machine failed when a step raises, so that teardown does not pile a second error on it."""

    @functools.wraps(fn)
    def wrapper(self: Convergence, **kwargs: Any) -> None:
        try:
            fn(self, **kwargs)
        except BaseException:
            self.failed = True
            raise

    return wrapper


class Convergence(RuleBasedStateMachine):
    def __init__(self, server: SimServer, kaders: list[int], admin: int) -> None:
        super().__init__()
        self.server = server
        start = server.change_seq()  # the database outlives examples: each begins where it stands
        self.devices = [
            Device(f"kader{i}", Actor(uid, Role.kader, DESA_GEROKGAK, client_id=uuid.uuid4()),
                   make_cursor(start, DESA_GEROKGAK))
            for i, uid in enumerate(kaders)
        ] + [Device("admin", Actor(admin, Role.admin, GEROKGAK, client_id=uuid.uuid4()), make_cursor(start, GEROKGAK),
                    desa_code=DESA_GEROKGAK)]
        self.created: dict[str, str] = {}  # record id -> table, for every record made in this example
        self.typed: list[tuple[str, str, Any, str]] = []  # (record id, field, value, who): every value sent
        self.saw: dict[str, tuple[int, dict[str, Any]]] = {}  # update id -> (base, the values it replaced on screen)
        self.answers: dict[str, dict[str, Any]] = {}  # mutation id -> its first answer
        self.sent: dict[str, str] = {}  # mutation id -> client id, for every mutation sent
        self.failed = False

    # Talking to the server ---------------------------------------------------------------------------

    def send(self, device: Device, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        device.sent.append(batch)
        results = self.server.push(device.actor, batch)
        assert [r["mutation_id"] for r in results] == [m["mutation_id"] for m in batch]
        for m, r in zip(batch, results, strict=True):
            self.sent[m["mutation_id"]] = str(device.actor.client_id)
            first = self.answers.setdefault(m["mutation_id"], r)
            assert r == first, f"{m} answered differently when sent again:\nfirst {first}\nnow   {r}"
            assert r["status"] != "rejected", f"{device.name}: {m} was rejected: {r}"
        return results

    def deliver(self, device: Device, results: list[dict[str, Any]]) -> None:
        rejected = device.answered(results)
        assert not rejected, f"{device.name}: rejected {rejected}"

    def pull_all(self, device: Device, limit: int = PAGE, max_pages: int | None = None) -> None:
        pages = 0
        while max_pages is None or pages < max_pages:
            page = self.server.pull(device.actor, device.cursor, limit)
            assert len(page["changes"]) <= limit
            device.pulled(page["changes"])
            device.cursor = page["next_cursor"]
            pages += 1
            if not page["has_more"]:
                return

    def editable(self) -> list[tuple[Device, str]]:
        return [(d, rid) for d in self.devices for rid in d.records if rid in self.created and d.editable(rid)]

    # Rules -------------------------------------------------------------------------------------------

    @initialize(who=st.integers(0, 3), records=st.lists(NEW_RECORD, min_size=1, max_size=2))
    @step
    def shared_records(self, who: int, records: list[tuple[str, dict[str, Any]]]) -> None:
        """Records every device has already: one makes them and pushes, then everyone pulls."""
        for record in records:
            self.create(who=who, record=record)
        device = self.devices[who]
        self.deliver(device, self.send(device, device.batch()))
        for d in self.devices:
            self.pull_all(d)

    @precondition(lambda self: len(self.created) < MAX_RECORDS)
    @rule(who=st.integers(0, 3), record=NEW_RECORD)
    @step
    def create(self, who: int, record: tuple[str, dict[str, Any]]) -> None:
        table, values = record
        device, rid = self.devices[who], str(uuid.uuid4())
        device.create(table, rid, values)
        self.created[rid] = table
        self.typed += [(rid, k, v, device.name) for k, v in values.items()]

    @precondition(lambda self: bool(self.editable()))
    @rule(pick=st.integers(0, 1000), op=st.sampled_from(["edit", "edit", "edit", "delete"]), choices=EDIT)
    @step
    def change(self, pick: int, op: str, choices: list[tuple[int, int]]) -> None:
        targets = self.editable()
        device, rid = targets[pick % len(targets)]
        if op == "delete":
            device.delete(rid)
            return
        fields = TRACKED[device.records[rid].table]
        values = {}
        for f, v in choices:
            name = fields[f % len(fields)]
            values[name] = VALUES[name][v % len(VALUES[name])]
        before = dict(device.records[rid].fields)
        m = device.edit(rid, values)
        if m is not None:
            self.typed += [(rid, k, v, device.name) for k, v in m["changes"].items()]
            self.saw[m["mutation_id"]] = (m["base_version"], {k: before.get(k) for k in m["changes"]})

    @precondition(lambda self: any(d.outbox for d in self.devices))
    @rule(pick=st.integers(0, 3), size=st.none() | st.integers(1, 4),
          delivery=st.sampled_from(["delivered", "dropped", "duplicated"]), then_pull=st.booleans())
    @step
    def push(self, pick: int, size: int | None, delivery: str, then_pull: bool) -> None:
        """The outbox (or its first ``size`` mutations) goes up; the answer arrives, is lost after the
        server committed, or the same batch is sent twice."""
        ready = [d for d in self.devices if d.outbox]
        device = ready[pick % len(ready)]
        batch = device.batch(size)
        results = self.send(device, batch)
        again = self.send(device, batch) if delivery == "duplicated" else None
        if delivery != "dropped":
            self.deliver(device, results)
        if again is not None:
            self.deliver(device, again)
        if then_pull:
            self.pull_all(device)

    @precondition(lambda self: any(d.sent for d in self.devices))
    @rule(pick=st.integers(0, 1000))
    @step
    def old_batch_again(self, pick: int) -> None:
        """A batch sent earlier arrives again, after newer ones: answered as the first time."""
        batches = [(d, b) for d in self.devices for b in d.sent]
        device, batch = batches[pick % len(batches)]
        self.deliver(device, self.send(device, batch))

    @rule(who=st.integers(0, 3), max_pages=st.none() | st.integers(1, 2))
    @step
    def pull(self, who: int, max_pages: int | None) -> None:
        self.pull_all(self.devices[who], max_pages=max_pages)

    # The final check ---------------------------------------------------------------------------------

    def teardown(self) -> None:
        if self.failed:
            return
        for device in self.devices:
            if device.outbox:
                self.deliver(device, self.send(device, device.batch()))
            assert not device.outbox, f"{device.name} still has {device.outbox}"
        for device in self.devices:
            self.pull_all(device, limit=50)
        clients = [d.actor.client_id for d in self.devices]
        self.check(self.server.run(lambda s: server_state(s, list(self.created), clients)))

    def check(self, state: ServerState) -> None:
        rows, conflicts = state.rows, state.conflicts
        history: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for h in state.history:
            history[h["record_id"]].append(h)

        # Every record exists once and was created once: no retried create made a second one.
        assert rows.keys() == self.created.keys(), f"not on the server: {self.created.keys() - rows.keys()}"
        for rid in self.created:
            assert [h["op"] for h in history[rid]].count("create") == 1, history[rid]

        # Every replica equals the server: the fields the cadres type, the tombstone, the version, and
        # the conflicts of these records.
        for device in self.devices:
            for rid, table in self.created.items():
                row, copy = rows[rid], device.records.get(rid)
                where = f"{device.name}, {table} {rid}"
                assert copy is not None, f"{where}: never reached the device"
                deleted = row["deleted_at"] is not None
                assert (copy.version, copy.deleted) == (row["version"], deleted), (
                    f"{where}: the device has v{copy.version} deleted={copy.deleted}, "
                    f"the server v{row['version']} deleted={deleted}")
                if not deleted:
                    expected = {**DEFAULTS[table], **tracked(table, row)}
                    assert same_fields(copy.fields, expected), f"{where}: device {copy.fields} != server {expected}"
            for cid, conflict in conflicts.items():
                assert device.conflicts.get(cid) == conflict, f"{device.name}: conflict {cid} differs"

        # Nothing anyone typed vanished: each value is the final one, an old or new value of that field
        # in the record's history, or held in a conflict of that record (base, mine or theirs).
        kept: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for rid, entries in history.items():
            for h in entries:
                for name, (old, new) in h["changes"].items():
                    kept[rid, name] += [old, new]
        for c in conflicts.values():
            for name, held in c["field_values"].items():
                kept[c["record_id"], name] += [held["base"], held["mine"], held["theirs"]]
        for rid, name, value, who in self.typed:
            final = rows[rid].get(name)
            assert same(final, value) or any(same(v, value) for v in kept[rid, name]), (
                f"{who} typed {name}={value!r} into {rid}; it is neither the final value {final!r}, "
                f"nor in its history or conflicts: {kept[rid, name]}")

        # No blind overwrite: an edit replaced, in each field, the value its writer saw on her screen
        # or the value at the version she started from (three-way merge); anything else is a conflict.
        for rid, entries in history.items():
            for h in entries:
                if h["op"] != "update" or h["mutation_id"] not in self.saw:
                    continue
                base, seen = self.saw[h["mutation_id"]]
                for name, (old, new) in h["changes"].items():
                    if name in seen and not (same(old, seen[name]) or
                                             same(old, value_at(entries, self.created[rid], name, base))):
                        raise AssertionError(
                            f"v{h['version']} of {rid} wrote {name}={new!r} over {old!r}, but its writer saw "
                            f"{seen[name]!r} and started from v{base}: {entries}")

        # A cadre never conflicts with her own earlier edits (see test_a_cadre_never_conflicts_…).
        assert not own_conflicts(history, conflicts)

        # One processed-mutation row per mutation id sent, holding the answer every resend was given.
        assert Counter(p["mutation_id"] for p in state.processed) == Counter(self.sent.keys())
        for p in state.processed:
            assert p["client_id"] == self.sent[p["mutation_id"]]
            assert p["result"] == self.answers[p["mutation_id"]]


def value_at(entries: list[dict[str, Any]], table: str, name: str, version: int) -> Any:
    """A field's value at a version of the record, from its history."""
    value = DEFAULTS[table].get(name)
    for h in entries:
        if h["version"] <= version and name in h["changes"]:
            value = h["changes"][name][1]
    return value


def own_conflicts(history: dict[str, list[dict[str, Any]]], conflicts: dict[str, dict[str, Any]]) -> list[Any]:
    """Conflicts raised although only the conflicting client itself had changed the record since its base."""
    found = []
    for c in conflicts.values():
        since = [h for h in history[c["record_id"]] if c["base_version"] < h["version"] <= c["server_version"]]
        if c["kind"] == "field":
            since = [h for h in since if h["changes"].keys() & c["field_values"].keys()]
        elif c["kind"] == "edit_deleted":
            since = [h for h in since if h["op"] == "delete"]
        if since and all(h["client_id"] == c["client_id"] for h in since):
            found.append((c, since))
    return found


class ServerState(msgspec.Struct):
    rows: dict[str, dict[str, Any]]  # record id -> the row in wire form
    history: list[dict[str, Any]]
    conflicts: dict[str, dict[str, Any]]  # conflict id -> the row in wire form
    processed: list[dict[str, Any]]


async def server_state(db: AsyncSession, record_ids: list[str], client_ids: list[uuid.UUID]) -> ServerState:
    """What the server holds for these records and clients, read straight from the tables."""
    ids = [uuid.UUID(r) for r in record_ids]
    rows: dict[str, Any] = {}
    for table in TRACKED:
        model = MODELS[table]
        for row in await db.scalars(select(model).where(model.id.in_(ids))):
            rows[str(row.id)] = row_to_wire(row)
    history = [
        {"record_id": h.record_id, "version": h.version, "op": h.op, "changes": h.changes,
         "client_id": h.client_id, "mutation_id": h.mutation_id}
        for h in await db.scalars(select(History).where(History.record_id.in_(ids)).order_by(History.version))
    ]
    conflicts = {str(c.id): row_to_wire(c)
                 for c in await db.scalars(select(Conflict).where(Conflict.record_id.in_(ids)))}
    processed = [
        {"mutation_id": p.mutation_id, "client_id": p.client_id, "result": p.result}
        for p in await db.scalars(select(ProcessedMutation).where(ProcessedMutation.client_id.in_(client_ids)))
    ]
    # Through JSON, as a device reads them: UUIDs as text.
    return msgspec.json.decode(msgspec.json.encode(ServerState(rows, history, conflicts, processed)),
                               type=ServerState)


def _user_id(store: Store, role: str, wilayah: str) -> int:
    username, _ = store.user(role, wilayah)
    return store.scalar("SELECT id FROM users WHERE username = :u", u=username)


def test_replicas_converge_and_nothing_typed_is_lost(store: Store) -> None:
    kaders = [_user_id(store, "kader", DESA_GEROKGAK) for _ in range(3)]
    admin = _user_id(store, "admin", GEROKGAK)
    server = SimServer(store.url)
    try:
        run_state_machine_as_test(
            lambda: Convergence(server, kaders, admin),
            settings=settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, derandomize=False,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]),
        )
    finally:
        server.close()


# A cadre's own offline edits, queued one after the other on one phone and pushed together.
OWN_EDITS: dict[str, Callable[[Device, SimServer, str], None]] = {
    "edit before the first push": lambda d, s, rid: d.edit(rid, {"uraian": "Banjir"}),
    "delete before the first push": lambda d, s, rid: d.delete(rid),
    "one field edited twice": lambda d, s, rid: (_sync(d, s), d.edit(rid, {"uraian": "Banjir"}),
                                                 d.edit(rid, {"uraian": "Air bersih"})),
    "edited, then deleted": lambda d, s, rid: (_sync(d, s), d.edit(rid, {"lokasi": "RT 01"}), d.delete(rid)),
}


def _sync(device: Device, server: SimServer) -> None:
    assert not device.answered(server.push(device.actor, device.batch()))


@pytest.mark.parametrize("offline", OWN_EDITS.values(), ids=OWN_EDITS.keys())
def test_a_cadre_never_conflicts_with_her_own_offline_edits(
        store: Store, offline: Callable[[Device, SimServer, str], None]) -> None:
    actor = Actor(_user_id(store, "kader", DESA_GEROKGAK), Role.kader, DESA_GEROKGAK, client_id=uuid.uuid4())
    server = SimServer(store.url)
    try:
        device, rid = Device("kader", actor, make_cursor(server.change_seq(), DESA_GEROKGAK)), str(uuid.uuid4())
        device.create("pengkajian", rid, {"uraian": "Jalan rusak"})
        offline(device, server, rid)
        results = server.push(actor, device.batch())
        assert [r["status"] for r in results] == ["applied"] * len(results), results
    finally:
        server.close()
