"""Which model holds each synced table, and how a row reads in wire form."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import inspect

from server.models import (
    Conflict,
    Dusun,
    Kader,
    Kehadiran,
    Komentar,
    Musyawarah,
    Pengkajian,
    SyncedRow,
    Usulan,
)
from sync.records import wire_time

MODELS: dict[str, type[SyncedRow]] = {
    "dusun": Dusun,
    "kader": Kader,
    "pengkajian": Pengkajian,
    "musyawarah": Musyawarah,
    "kehadiran": Kehadiran,
    "usulan": Usulan,
    "komentar": Komentar,
}
# What a pull sends: the records, plus the conflicts of the caller's desa (so phones can show them).
PULLED: dict[str, type[SyncedRow]] = {**MODELS, "conflicts": Conflict}
TABLE_OF: dict[type[SyncedRow], str] = {model: name for name, model in PULLED.items()}


def column_names(model: type[SyncedRow]) -> list[str]:
    return [c.key for c in inspect(model).column_attrs]


def wire_value(value: Any) -> Any:
    """A column's value as it travels; a time of day in the one form the phones send (``wire_time``)."""
    if isinstance(value, dt.time):
        return wire_time(value)
    return msgspec.to_builtins(value)


def row_to_wire(row: SyncedRow) -> dict[str, Any]:
    """The whole row as JSON builtins (UUIDs, dates, times and instants as ISO text)."""
    return {name: wire_value(getattr(row, name)) for name in column_names(type(row))}
