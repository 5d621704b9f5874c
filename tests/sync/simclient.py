"""Simulated phones for the convergence test: the PWA's sync algorithm, talking to the engine directly.

``SimServer`` owns one engine and one event loop for a whole test run and opens one committed session
per request, as the HTTP layer does (``server/http.py``; the engine's pull takes its own snapshot).
Requests and answers go through JSON, so a device sees exactly what a phone would.

``Device`` is the client algorithm, as small as the PWA's can be while still converging and never
writing blindly over a value the cadre did not see:

- a local edit changes the local copy at once and appends a mutation to the outbox, carrying only the
  fields that changed and, as ``base_version``, the copy's confirmed version — or, while earlier edits
  of the record still wait in the outbox, their base (the copy then shows those edits over a row that
  may not hold them);
- a push answer removes each answered mutation from the outbox. If the device has already pulled a
  server row at least as new as the answer (a late answer to a retried push), the copy is rebuilt
  from that row and the rest of the outbox. Otherwise ``applied`` confirms the answer's version;
  ``merged`` and ``conflict`` do not (the server's row now holds values the copy lacks; the next pull
  brings it), and ``conflict`` shows the server's values again, as last pulled, for the refused
  fields or the refused delete;
- a pulled change becomes the record's server copy; the local copy is that row with the record's
  pending mutations re-applied on top (rebase), or the row itself when nothing is pending.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.engine import make_engine, make_sessionmaker
from server.models import SyncCounter
from sync.engine import pull as pull_engine
from sync.engine import push as push_engine
from sync.engine.writer import Actor
from sync.merge import same
from sync.protocol import PROTOCOL_VERSION, push_decoder

T = TypeVar("T")

# The fields the simulated cadres type, per table, and what a new form holds before anyone types.
TRACKED: dict[str, tuple[str, ...]] = {
    "pengkajian": ("uraian", "penyebab", "lokasi", "skor_parah"),
    "usulan": ("kegiatan", "lokasi", "volume", "satuan"),
}
DEFAULTS: dict[str, dict[str, Any]] = {
    "pengkajian": {"penyebab": "", "lokasi": "", "skor_parah": None},
    "usulan": {"lokasi": "", "volume": None, "satuan": ""},
}
FIXED_ON_CREATE: dict[str, dict[str, Any]] = {"pengkajian": {"jenis": "masalah"}, "usulan": {}}

_json = msgspec.json.Encoder()


def tracked(table: str, values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in TRACKED[table]}


def same_fields(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)


class SimServer:
    """The engine behind one event loop; every ``run`` is one committed transaction (a "request")."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.engine = make_engine(url)
        self.sessions = make_sessionmaker(self.engine)
        self.postgres = url.startswith("postgresql")

    def close(self) -> None:
        self.loop.run_until_complete(self.engine.dispose())
        self.loop.close()

    def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async def go() -> T:
            async with self.sessions() as session:
                result = await work(session)
                await session.commit()
                return result

        return self.loop.run_until_complete(go())

    def push(self, actor: Actor, mutations: list[dict[str, Any]]) -> list[dict[str, Any]]:
        body = _json.encode({"client_id": str(actor.client_id), "protocol_version": PROTOCOL_VERSION,
                             "app_version": "sim", "mutations": mutations})
        request = push_decoder.decode(body)
        response = self.run(lambda s: push_engine.push(s, actor, request, None))
        return msgspec.json.decode(_json.encode(response))["results"]

    def pull(self, actor: Actor, cursor: str | None, limit: int) -> dict[str, Any]:
        response = self.run(lambda s: pull_engine.pull(s, actor, cursor, limit))
        return msgspec.json.decode(_json.encode(response))

    def change_seq(self) -> int:
        return self.run(lambda s: s.scalar(select(SyncCounter.value).where(SyncCounter.id == 1)))


@dataclass
class ServerCopy:
    """A record as the device last pulled it: ``fields`` is None for a tombstone it never saw alive."""

    version: int
    fields: dict[str, Any] | None
    deleted: bool


@dataclass
class Copy:
    """The device's local copy of one record: what the cadre sees."""

    table: str
    version: int  # the server version this copy is known to reflect (0: not yet on the server)
    fields: dict[str, Any]
    deleted: bool
    server: ServerCopy | None = None


@dataclass
class Device:
    name: str
    actor: Actor
    cursor: str
    desa_code: str | None = None  # sent on create (an admin must name the desa)
    records: dict[str, Copy] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: list[list[dict[str, Any]]] = field(default_factory=list)  # every batch sent, for late retries
    seq: int = 0

    # Local edits -------------------------------------------------------------------------------------

    def create(self, table: str, record_id: str, values: dict[str, Any]) -> dict[str, Any]:
        self.records[record_id] = Copy(table, 0, {**DEFAULTS[table], **values}, False)
        changes = {**FIXED_ON_CREATE[table], **values}
        if self.desa_code:
            changes["desa_code"] = self.desa_code
        return self._queue("create", table, record_id, 0, changes)

    def editable(self, record_id: str) -> bool:
        copy = self.records.get(record_id)
        return copy is not None and not copy.deleted

    def edit(self, record_id: str, values: dict[str, Any]) -> dict[str, Any] | None:
        """Only the fields whose value changes travel; an edit that changes nothing sends nothing."""
        copy = self.records[record_id]
        changes = {k: v for k, v in values.items() if not (k in copy.fields and same(copy.fields[k], v))}
        if not changes:
            return None
        base = self._base(record_id)
        copy.fields.update(changes)
        return self._queue("update", copy.table, record_id, base, changes)

    def delete(self, record_id: str) -> dict[str, Any]:
        base = self._base(record_id)
        self.records[record_id].deleted = True
        return self._queue("delete", self.records[record_id].table, record_id, base, {})

    def _base(self, record_id: str) -> int:
        pending = (m["base_version"] for m in self.outbox if m["record_id"] == record_id)
        return next(pending, self.records[record_id].version)

    def _queue(self, op: str, table: str, record_id: str, base_version: int, changes: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        m = {"op": op, "mutation_id": str(uuid.uuid4()), "seq": self.seq, "table": table, "record_id": record_id,
             "base_version": base_version, "changes": changes}
        self.outbox.append(m)
        return m

    # Sync --------------------------------------------------------------------------------------------

    def batch(self, size: int | None = None) -> list[dict[str, Any]]:
        return [dict(m) for m in (self.outbox if size is None else self.outbox[:size])]

    def answered(self, results: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Apply a push answer; returns the (mutation, result) pairs that were rejected."""
        rejected = []
        for r in results:
            m = next((m for m in self.outbox if m["mutation_id"] == r["mutation_id"]), None)
            if m is None:
                continue  # answered before (a duplicate or a late retry)
            self.outbox.remove(m)
            if r["status"] == "rejected":
                rejected.append((m, r))
                continue
            copy = self.records[m["record_id"]]
            if copy.server is not None and r["version"] <= copy.server.version:
                self._rebase(m["record_id"])  # the pulled row already holds this answer's outcome
            elif r["status"] == "applied":
                copy.version = max(copy.version, r["version"])
            elif r["status"] == "conflict" and copy.server is not None:
                self._refused(m, r.get("conflict_fields", []))
        return rejected

    def pulled(self, changes: list[dict[str, Any]]) -> None:
        """Apply one page of a pull (atomically: the caller moves the cursor only afterwards)."""
        for c in changes:
            if c["table"] == "conflicts":
                self.conflicts[c["record_id"]] = c["row"]
                continue
            if c["table"] not in TRACKED:
                continue
            rid = c["record_id"]
            copy = self.records.setdefault(rid, Copy(c["table"], 0, {}, False))
            copy.server = ServerCopy(c["version"], tracked(c["table"], c["row"]) if c["row"] else None, c["deleted"])
            self._rebase(rid)

    def _rebase(self, record_id: str) -> None:
        """The local copy := the server copy with this record's pending mutations re-applied on top."""
        copy = self.records[record_id]
        server = copy.server
        assert server is not None
        fields = dict(server.fields) if server.fields is not None else dict(copy.fields)
        deleted = server.deleted
        for m in self._pending(record_id):
            if m["op"] == "delete":
                deleted = True
            else:
                fields.update(tracked(copy.table, m["changes"]))
        copy.fields, copy.deleted, copy.version = fields, deleted, server.version

    def _refused(self, m: dict[str, Any], fields: list[str]) -> None:
        """A conflict: the server kept its values (the cadre's wait in the conflict record), so the copy
        shows the server's again, as last pulled, under whatever is still pending."""
        copy = self.records[m["record_id"]]
        server = copy.server
        assert server is not None
        if m["op"] == "delete":
            copy.deleted = server.deleted
        if server.fields is None:
            return
        copy.fields.update({k: server.fields[k] for k in fields if k in server.fields})
        for later in self._pending(m["record_id"]):
            copy.fields.update({k: v for k, v in tracked(copy.table, later["changes"]).items() if k in fields})

    def _pending(self, record_id: str) -> list[dict[str, Any]]:
        return [m for m in self.outbox if m["record_id"] == record_id]
