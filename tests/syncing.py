"""Helpers for tests that speak the sync protocol over HTTP."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import httpx

from tests.conftest import LiveServer

_seq = itertools.count(1)


def mutation(op: str, table: str, record_id: uuid.UUID, changes: dict[str, Any] | None = None,
             base_version: int = 0, mutation_id: uuid.UUID | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"op": op, "mutation_id": str(mutation_id or uuid.uuid4()), "seq": next(_seq),
                         "table": table, "record_id": str(record_id), "base_version": base_version}
    if changes is not None or op != "delete":
        m["changes"] = changes or {}
    return m


class Device:
    """One installation of the app: a client id and a token."""

    def __init__(self, server: LiveServer, token: str) -> None:
        self.server = server
        self.token = token
        self.client_id = uuid.uuid4()
        self.cursor: str | None = None

    def http(self) -> httpx.Client:
        return self.server.client(self.token)

    def push_raw(self, mutations: list[dict[str, Any]], **extra: Any) -> httpx.Response:
        body = {"client_id": str(self.client_id), "protocol_version": 1, "app_version": "test",
                "mutations": mutations, **extra}
        with self.http() as c:
            return c.post("/api/sync/push", json=body)

    def push(self, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
        r = self.push_raw(list(mutations))
        assert r.status_code == 200, r.text
        return r.json()["results"]

    def pull_all(self, limit: int = 200) -> list[dict[str, Any]]:
        """Pull until has_more is false; returns every change received, moving the cursor."""
        changes: list[dict[str, Any]] = []
        with self.http() as c:
            while True:
                params: dict[str, Any] = {"limit": limit}
                if self.cursor:
                    params["cursor"] = self.cursor
                r = c.get("/api/sync/pull", params=params)
                assert r.status_code == 200, r.text
                page = r.json()
                changes += page["changes"]
                self.cursor = page["next_cursor"]
                if not page["has_more"]:
                    return changes
