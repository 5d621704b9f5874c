"""Pushes as the fault tests send them, and what a push left in the database."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
from sqlalchemy import func, select

from server.models import History, Kehadiran, Musyawarah, ProcessedMutation, SyncClient, SyncCounter
from tests.support.database import Store
from tests.syncing import Device, mutation

MASALAH = {"jenis": "masalah", "uraian": "Air bersih sering mati di musim kemarau", "bidang_code": "2",
           "skor_dirasakan": 4, "skor_parah": 3}


def count(store: Store, model: Any, *where: Any) -> int:
    async def work(s: Any) -> int:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)))

    return store.run(work)


def counter(store: Store) -> int:
    return store.run(lambda s: s.scalar(select(SyncCounter.value).where(SyncCounter.id == 1)))


def wait_until(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {what}")
        time.sleep(0.05)


def envelope(device: Device, mutations: list[dict[str, Any]]) -> bytes:
    return msgspec.json.encode({"client_id": str(device.client_id), "protocol_version": 1, "app_version": "test",
                                "mutations": mutations})


def large_batch(musyawarah_id: uuid.UUID, size: int = 400) -> list[dict[str, Any]]:
    """A musyawarah and its attendance list: one create and ``size - 1`` kehadiran rows."""
    notulen = "Warga membahas perbaikan saluran irigasi subak dan jadwal gotong royong. " * 60
    batch = [mutation("create", "musyawarah", musyawarah_id,
                      {"jenis": "musyawarah_dusun", "tanggal": "2026-03-02", "tempat": "Balai banjar",
                       "notulen": notulen})]
    batch += [mutation("create", "kehadiran", uuid.uuid4(),
                       {"musyawarah_id": str(musyawarah_id), "nama": f"Warga ke-{n}",
                        "jenis_kelamin": "P" if n % 2 else "L", "unsur": "tokoh masyarakat"})
              for n in range(size - 1)]
    return batch


def stored_of_batch(store: Store, device: Device, musyawarah_id: uuid.UUID) -> tuple[int, int, int, int, int]:
    return (count(store, Musyawarah, Musyawarah.id == musyawarah_id),
            count(store, Kehadiran, Kehadiran.musyawarah_id == musyawarah_id),
            count(store, History, History.client_id == device.client_id),
            count(store, ProcessedMutation, ProcessedMutation.client_id == device.client_id),
            count(store, SyncClient, SyncClient.id == device.client_id))
