"""Two kecamatan with data in every synced table, an admin of each logged in to /admin/, and a cadre of
one desa in each — the setting of the scoping tests (both databases)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.admin.helpers import AdminBrowser, conflict, kader_device, seed
from tests.conftest import DESA_GANRA, DESA_GEROKGAK, GANRA, GEROKGAK, LiveServer, Store
from tests.syncing import Device


@dataclass
class Region:
    scope: str
    desa: str
    admin: AdminBrowser
    kader: Device
    ids: dict[str, uuid.UUID]
    conflict_id: uuid.UUID


@dataclass
class Regions:
    gerokgak: Region
    ganra: Region


def _region(server: LiveServer, store: Store, scope: str, desa: str, tag: str) -> Region:
    admin = AdminBrowser.new(server, store, scope)
    kader = kader_device(server, store, desa)
    ids = seed(kader, admin, desa, tag)
    result = conflict(kader, admin, "usulan", ids["usulan"], "kegiatan", f"Usulan {tag} (admin)",
                      f"Usulan {tag} (kader)")
    return Region(scope, desa, admin, kader, ids, uuid.UUID(result["conflict_id"]))


@pytest.fixture(scope="session")
def regions(server: LiveServer, store: Store) -> Iterator[Regions]:
    both = Regions(_region(server, store, GEROKGAK, DESA_GEROKGAK, "Gerokgak"),
                   _region(server, store, GANRA, DESA_GANRA, "Ganra"))
    yield both
    both.gerokgak.admin.close()
    both.ganra.admin.close()
