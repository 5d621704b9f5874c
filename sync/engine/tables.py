"""Which model holds each synced table, and how a row reads in wire form."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any, ClassVar

import msgspec
from sqlalchemy import Time, inspect

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


class PendingRow:
    """A row a push batch creates, held as plain attributes (one per column) until the batch inserts it
    with the other new rows of its table in one statement (``sync.engine.writer.Writer``). Later
    mutations of the batch read and change it like a loaded row; ``model`` says which table it is for."""

    model: ClassVar[type[SyncedRow]]


def model_of(row: SyncedRow | PendingRow) -> type[SyncedRow]:
    return row.model if isinstance(row, PendingRow) else type(row)


@functools.cache
def column_names(model: type[SyncedRow]) -> tuple[str, ...]:
    return tuple(c.key for c in inspect(model).column_attrs)


def wire_value(value: Any) -> Any:
    """A column's value as it travels; a time of day in the one form the phones send (``wire_time``)."""
    if isinstance(value, dt.time):
        return wire_time(value)
    return msgspec.to_builtins(value)


def row_to_wire(row: SyncedRow | PendingRow) -> dict[str, Any]:
    """The whole row as JSON builtins (UUIDs, dates, times and instants as ISO text)."""
    return {name: wire_value(getattr(row, name)) for name in column_names(model_of(row))}


@functools.cache
def _wire_layout(model: type[SyncedRow]) -> tuple[type[msgspec.Struct], tuple[int, ...]]:
    """A struct with the model's columns as fields, in their order, and which columns hold times of day.
    msgspec writes UUIDs, instants, dates and vocabulary values exactly as ``wire_value`` does; a time
    it would write with seconds, so times go through ``wire_value``."""
    names = column_names(model)
    times = tuple(i for i, name in enumerate(names) if isinstance(model.__table__.c[name].type, Time))
    return msgspec.defstruct(f"{model.__name__}Wire", list(names)), times


def wire_record(model: type[SyncedRow], values: Sequence[Any]) -> msgspec.Struct:
    """A row read with Core (``values`` in the order of ``column_names``) as a struct that encodes to the
    same JSON object as ``row_to_wire`` gives, without building a dict of it."""
    struct, times = _wire_layout(model)
    if times:
        values = list(values)
        for i in times:
            if values[i] is not None:
                values[i] = wire_value(values[i])
    return struct(*values)
