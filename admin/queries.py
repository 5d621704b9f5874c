"""What a read of piccolo-admin's table API may ask, checked by the gate before piccolo-admin sees it.

piccolo_api turns a query it cannot run into a 500 (a column that does not exist in ``__order``, a
number past the database's range, a value longer than its column or outside its choices, a filter on a
JSON column, a NUL character on PostgreSQL) and writes ``__range_header_name`` into a response header
unchecked. Each of those is the caller's mistake: here it is answered 400 with what is wrong, in the
words of the filter form. The rules follow piccolo_api 1.x's parameters (crud/endpoints.py:
``_split_params``, ``get_ids``) and the column types the admin derives (admin/tables.py).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from piccolo import columns as pc
from piccolo.table import Table

# piccolo_api's filter operators and text match types (crud/endpoints.py OPERATOR_MAP, MATCH_TYPES).
OPERATORS = frozenset({"lt", "lte", "gt", "gte", "e", "ne", "is_null", "not_null"})
MATCH_TYPES = frozenset({"contains", "exact", "starts", "ends"})
TRUE = frozenset({"t", "true", "True", "1"})  # what piccolo_api takes for __readable
BOOLEAN = frozenset({"t", "true", "1", "yes", "y", "on", "f", "false", "0", "no", "n", "off"})  # pydantic's
MAX_PAGE = 10**9  # so that the offset (page × page size) stays far inside a 64-bit integer
MAX_PAGE_SIZE = 1000  # piccolo_api's max_page_size
RANGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # goes into the Content-Range header
WHOLE = re.compile(r"^-?\d{1,19}$")
INT_BITS = ((pc.SmallInt, 16), (pc.BigInt, 64), (pc.BigSerial, 64), (pc.Integer, 32), (pc.Serial, 32))


class BadQuery(ValueError):
    """A read piccolo-admin would fail on: the message says what to change."""


def check_read(table: type[Table], rest: Sequence[str], params: Sequence[tuple[str, str]]) -> None:
    """``rest``: the path below ``/api/tables/<table>/`` ([] the list, ["count"], ["ids"], [row id], …)."""
    for key, value in params:
        if "\x00" in key or "\x00" in value:
            raise BadQuery("Teks pencarian tidak boleh memuat karakter NUL.")
    if not rest or rest == ["count"]:
        _check_list(table, params)
    elif rest == ["ids"]:
        _check_ids(params)
    elif rest[0] not in ("schema", "references", "new"):
        _check_row_id(table, rest[0])
        _check_list(table, [(k, v) for k, v in params if k in ("__readable", "__visible_fields")])


def check_ids(params: Sequence[tuple[str, str]]) -> None:
    """The foreign-key picker's parameters (``/api/tables/<table>/ids/``): search, limit, offset."""
    for key, value in params:
        if "\x00" in key or "\x00" in value:
            raise BadQuery("Teks pencarian tidak boleh memuat karakter NUL.")
    _check_ids(params)


def _check_ids(params: Sequence[tuple[str, str]]) -> None:
    for key, value in params:
        if key == "limit" and not _whole(value, 0, MAX_PAGE):
            raise BadQuery(f"limit harus bilangan bulat 0–{MAX_PAGE}, bukan {value!r}.")
        if key == "offset" and not _whole(value, 0, 2**62):
            raise BadQuery(f"offset harus bilangan bulat 0 atau lebih, bukan {value!r}.")


def _check_row_id(table: type[Table], raw: str) -> None:
    if not _fits(table._meta.primary_key, raw):
        raise BadQuery(f"{raw!r} bukan id rekaman tabel {table._meta.tablename}.")


def _check_list(table: type[Table], params: Sequence[tuple[str, str]]) -> None:
    columns = {c._meta.name: c for c in table._meta.columns}

    def column(name: str, what: str) -> pc.Column:
        if name not in columns:
            raise BadQuery(f"{what}: tabel {table._meta.tablename} tidak punya kolom {name!r}.")
        return columns[name]

    for key, value in params:
        if key == "__order":
            for part in value.split(","):
                column(part.removeprefix("-"), "Urutan")
        elif key == "__visible_fields":
            for part in value.split(","):
                column(part, "Kolom yang ditampilkan")
        elif key == "__page":
            if not _whole(value, 1, MAX_PAGE):
                raise BadQuery(f"Halaman harus bilangan bulat 1–{MAX_PAGE}, bukan {value!r}.")
        elif key == "__page_size":
            if not _whole(value, 1, MAX_PAGE_SIZE):
                raise BadQuery(f"Jumlah baris per halaman harus 1–{MAX_PAGE_SIZE}, bukan {value!r}.")
        elif key == "__readable":
            if value not in TRUE:
                raise BadQuery(f"__readable harus true, bukan {value!r}.")
        elif key == "__range_header":
            continue
        elif key == "__range_header_name":
            if not RANGE_NAME.match(value):
                raise BadQuery("__range_header_name hanya boleh huruf, angka, - dan _ (paling panjang 64).")
        elif key.endswith("__operator"):
            column(key.removesuffix("__operator"), "Penyaring")
            if value not in OPERATORS:
                raise BadQuery(f"Operator penyaring {value!r} tidak dikenal.")
        elif key.endswith("__match"):
            column(key.removesuffix("__match"), "Penyaring")
            if value not in MATCH_TYPES:
                raise BadQuery(f"Cara mencocokkan teks {value!r} tidak dikenal.")
        elif key.startswith("__"):
            raise BadQuery(f"Parameter {key!r} tidak dikenal.")
        else:
            _check_filter(column(key, "Penyaring"), value)


def _check_filter(column: pc.Column, value: str) -> None:
    name = column._meta.name
    if isinstance(column, (pc.JSON, pc.Array)):
        raise BadQuery(f"Kolom {name} tidak bisa disaring.")
    if value.lower() == "null" and not isinstance(column, pc.Text):  # piccolo reads it as NULL
        raise BadQuery(f"Untuk menyaring {name} yang kosong, pakai operator is_null.")
    if not _fits(column, value):
        raise BadQuery(f"{value!r} bukan nilai yang sah untuk {name}.")


def _fits(column: pc.Column, value: str) -> bool:
    """Whether ``value`` (query text) is a value of ``column`` that the database can compare."""
    if isinstance(column, pc.ForeignKey):
        column = column._foreign_key_meta.resolved_references._meta.primary_key
    if isinstance(column, pc.Varchar):
        choices = column._meta.choices
        allowed = {getattr(c, "value", c) for c in choices} if choices else None
        return len(value) <= column.length and (allowed is None or value in allowed)
    if isinstance(column, pc.Text):
        return True
    for kind, bits in INT_BITS:
        if isinstance(column, kind):
            return _whole(value, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    check = _PARSERS.get(type(column)) or next((p for k, p in _PARSERS.items() if isinstance(column, k)), None)
    if check is None:
        return False  # a type the admin does not filter on
    try:
        check(value)
    except ValueError:
        return False
    return True


def _finite(value: str) -> None:
    if not math.isfinite(float(value)):
        raise ValueError(value)


def _boolean(value: str) -> None:
    if value.lower() not in BOOLEAN:
        raise ValueError(value)


_PARSERS: dict[type[pc.Column], Callable[[str], Any]] = {
    pc.UUID: uuid.UUID,
    pc.Boolean: _boolean,
    pc.Real: _finite,
    pc.Numeric: _finite,
    pc.Date: dt.date.fromisoformat,
    pc.Time: dt.time.fromisoformat,
    pc.Timestamp: dt.datetime.fromisoformat,
    pc.Timestamptz: dt.datetime.fromisoformat,
}


def _whole(value: str, low: int, high: int) -> bool:
    return bool(WHOLE.match(value)) and low <= int(value) <= high
