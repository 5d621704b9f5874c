"""The fields a client may send per table, with their types and limits: the typed half of the wire schema.

The phone validates with the same types and limits: ``kader contract`` (sync/contract.py) writes them
into pwa/js/contract.js; run it after changing anything here (tests/test_contract.py says when).

Every field defaults to ``UNSET`` so a partial update says exactly which fields it changes. Fields the
server owns (id, version, change_seq, timestamps, authorship, review state, conflict flag, computed
totals, and the rank, computed by sync/ranking.py) are not here and so are refused if sent.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from sync.vocabulary import (
    Jabatan,
    JenisKelamin,
    JenisMusyawarah,
    JenisPengkajian,
    Pendidikan,
    PolaPelaksanaan,
    StatusKader,
    SumberDana,
    Unsur,
)

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Long = Annotated[str, msgspec.Meta(max_length=20_000)]
Score = Annotated[int, msgspec.Meta(ge=0, le=10)]  # commonly 1–5; the scale is configurable up to 10
Count = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]


def whole(pattern: str) -> str:
    """A pattern the whole text must match, meaning the same here and on the phone (pwa/js/contract.js):
    Python's ``$`` also matches before a final newline, JavaScript's does not, so without the look-ahead
    "2" and a newline would be a bidang code here and not there."""
    return rf"^(?:{pattern})$(?!\n)"


BidangCode = Annotated[str, msgspec.Meta(pattern=whole(r"[1-5](\.[0-9]{1,2})?"))]
DesaCode = Annotated[str, msgspec.Meta(pattern=whole(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}"))]
Sha256 = Annotated[str, msgspec.Meta(pattern=whole(r"[0-9a-f]{64}"))]
# A time of day as the phone's <input type=time> gives it: HH:MM, or HH:MM:SS when it has seconds.
# Text on the wire (not msgspec's dt.time, which wants seconds and would take an offset); ``column_values``
# turns it into the TIME column's value, and times go back out in the canonical form (``wire_time``).
TIME_PATTERN = whole(r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?")
Time = Annotated[str, msgspec.Meta(pattern=TIME_PATTERN)]


class Fields(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Base: ``desa_code`` may be given on create (an admin must; a cadre's defaults to her desa)."""

    desa_code: DesaCode | UnsetType = UNSET


class Scores(Fields):
    skor_dirasakan: Score | None | UnsetType = UNSET
    skor_parah: Score | None | UnsetType = UNSET
    skor_pendapatan: Score | None | UnsetType = UNSET
    skor_sering: Score | None | UnsetType = UNSET
    skor_potensi: Score | None | UnsetType = UNSET


class DusunFields(Fields):
    nama: Name | UnsetType = UNSET
    sebutan: Annotated[str, msgspec.Meta(max_length=40)] | UnsetType = UNSET


class KaderFields(Fields):
    nama: Name | UnsetType = UNSET
    jenis_kelamin: JenisKelamin | UnsetType = UNSET
    tanggal_lahir: dt.date | None | UnsetType = UNSET
    pendidikan: Pendidikan | None | UnsetType = UNSET
    jabatan: Jabatan | UnsetType = UNSET
    no_sk: Annotated[str, msgspec.Meta(max_length=80)] | UnsetType = UNSET
    tanggal_sk: dt.date | None | UnsetType = UNSET
    periode: Annotated[str, msgspec.Meta(max_length=20)] | UnsetType = UNSET
    bidang_tugas: Annotated[str, msgspec.Meta(max_length=160)] | UnsetType = UNSET
    peran: Annotated[list[Short], msgspec.Meta(max_length=20)] | UnsetType = UNSET
    alamat: Long | UnsetType = UNSET
    telepon: Annotated[str, msgspec.Meta(max_length=30)] | UnsetType = UNSET
    status: StatusKader | UnsetType = UNSET
    pelatihan: Annotated[list[Short], msgspec.Meta(max_length=50)] | UnsetType = UNSET


class PengkajianFields(Scores):
    jenis: JenisPengkajian | UnsetType = UNSET
    bidang_code: BidangCode | None | UnsetType = UNSET
    uraian: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)] | UnsetType = UNSET
    penyebab: Long | UnsetType = UNSET
    potensi_tersedia: Long | UnsetType = UNSET
    usulan_tindakan: Long | UnsetType = UNSET
    dusun_id: uuid.UUID | None | UnsetType = UNSET
    kelompok_sumber: Annotated[str, msgspec.Meta(max_length=120)] | UnsetType = UNSET
    lokasi: Long | UnsetType = UNSET
    latitude: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None | UnsetType = UNSET
    longitude: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None | UnsetType = UNSET
    akurasi_m: Annotated[float, msgspec.Meta(ge=0, le=100_000)] | None | UnsetType = UNSET


class Narasumber(msgspec.Struct, forbid_unknown_fields=True):
    nama: Name
    unsur: Annotated[str, msgspec.Meta(max_length=60)] = ""


class MusyawarahFields(Fields):
    jenis: JenisMusyawarah | UnsetType = UNSET
    kelompok: Annotated[str, msgspec.Meta(max_length=80)] | UnsetType = UNSET
    tanggal: dt.date | UnsetType = UNSET
    jam_mulai: Time | None | UnsetType = UNSET
    jam_selesai: Time | None | UnsetType = UNSET
    tempat: Short | UnsetType = UNSET
    dusun_id: uuid.UUID | None | UnsetType = UNSET
    pimpinan: Annotated[str, msgspec.Meta(max_length=120)] | UnsetType = UNSET
    pimpinan_unsur: Annotated[str, msgspec.Meta(max_length=60)] | UnsetType = UNSET
    notulis: Annotated[str, msgspec.Meta(max_length=120)] | UnsetType = UNSET
    narasumber: Annotated[list[Narasumber], msgspec.Meta(max_length=50)] | UnsetType = UNSET
    agenda: Long | UnsetType = UNSET
    notulen: Annotated[str, msgspec.Meta(max_length=100_000)] | UnsetType = UNSET
    keputusan: Annotated[list[Long], msgspec.Meta(max_length=200)] | UnsetType = UNSET
    foto: Annotated[list[Sha256], msgspec.Meta(max_length=50)] | UnsetType = UNSET


class KehadiranFields(Fields):
    musyawarah_id: uuid.UUID | UnsetType = UNSET
    # Optional: a count-only tally adds a line per person without a name ("" on the wire and in the row).
    nama: Annotated[str, msgspec.Meta(max_length=120)] | UnsetType = UNSET
    jenis_kelamin: JenisKelamin | UnsetType = UNSET
    unsur: Unsur | UnsetType = UNSET
    dusun_id: uuid.UUID | None | UnsetType = UNSET


class UsulanFields(Scores):
    kegiatan: Annotated[str, msgspec.Meta(min_length=1, max_length=2_000)] | UnsetType = UNSET
    musyawarah_id: uuid.UUID | None | UnsetType = UNSET
    pengkajian_id: uuid.UUID | None | UnsetType = UNSET
    bidang_code: BidangCode | None | UnsetType = UNSET
    sub_bidang_code: BidangCode | None | UnsetType = UNSET
    kode_kegiatan: Annotated[str, msgspec.Meta(max_length=20)] | UnsetType = UNSET
    lokasi: Long | UnsetType = UNSET
    dusun_id: uuid.UUID | None | UnsetType = UNSET
    volume: Annotated[float, msgspec.Meta(ge=0, le=1e12)] | None | UnsetType = UNSET
    satuan: Annotated[str, msgspec.Meta(max_length=30)] | UnsetType = UNSET
    penerima_laki: Count | None | UnsetType = UNSET
    penerima_perempuan: Count | None | UnsetType = UNSET
    penerima_artm: Count | None | UnsetType = UNSET
    biaya: Annotated[int, msgspec.Meta(ge=0, le=10**15)] | None | UnsetType = UNSET
    sumber_dana: SumberDana | None | UnsetType = UNSET
    pola_pelaksanaan: PolaPelaksanaan | None | UnsetType = UNSET
    sdgs_desa: Annotated[int, msgspec.Meta(ge=1, le=18)] | None | UnsetType = UNSET
    catatan: Long | UnsetType = UNSET


class KomentarFields(Fields):
    record_table: Annotated[str, msgspec.Meta(max_length=40)] | UnsetType = UNSET
    record_id: uuid.UUID | UnsetType = UNSET
    isi: Annotated[str, msgspec.Meta(min_length=1, max_length=5_000)] | UnsetType = UNSET


class TableSpec(msgspec.Struct, frozen=True):
    fields: type[Fields]
    required: frozenset[str]  # must be present on create
    append_only: bool = False  # rows only ever grow (comments): never edited, so never in conflict
    admin_only: bool = False  # kept by the kecamatan: cadres read these rows but do not write them
    references: tuple[tuple[str, str], ...] = ()  # (field, table) that must exist in the same desa


TABLES: dict[str, TableSpec] = {
    "dusun": TableSpec(DusunFields, frozenset({"nama"}), admin_only=True),
    "kader": TableSpec(KaderFields, frozenset({"nama", "jenis_kelamin"}), admin_only=True),
    "pengkajian": TableSpec(PengkajianFields, frozenset({"jenis", "uraian"}), references=(("dusun_id", "dusun"),)),
    "musyawarah": TableSpec(MusyawarahFields, frozenset({"jenis", "tanggal"}), references=(("dusun_id", "dusun"),)),
    "kehadiran": TableSpec(
        KehadiranFields, frozenset({"musyawarah_id", "jenis_kelamin"}),
        references=(("musyawarah_id", "musyawarah"), ("dusun_id", "dusun")),
    ),
    "usulan": TableSpec(
        UsulanFields, frozenset({"kegiatan"}),
        references=(("musyawarah_id", "musyawarah"), ("pengkajian_id", "pengkajian"), ("dusun_id", "dusun")),
    ),
    "komentar": TableSpec(KomentarFields, frozenset({"record_table", "record_id", "isi"}), append_only=True),
}

SCORE_FIELDS = ("skor_dirasakan", "skor_parah", "skor_pendapatan", "skor_sering", "skor_potensi")


class FieldError(ValueError):
    """A mutation's ``changes`` do not fit the table: carries a plain-words reason and, when one field is
    to blame, its name and what is wrong with it (``problem``: ``required``, ``too_long``, ``range``,
    ``type`` or ``unknown``), from which a phone says it in the cadre's words."""

    def __init__(self, reason: str, field: str | None = None, problem: str | None = None) -> None:
        super().__init__(reason)
        self.field, self.problem = field, problem

    @classmethod
    def of(cls, e: msgspec.ValidationError) -> FieldError:
        """Reads the field and the problem out of msgspec's message ("… - at `$.tempat`"): msgspec keeps
        them in no attribute, and its wording is stable across its versions."""
        text = str(e)
        path = re.search(r"at `\$\.(\w+)", text) or re.search(r"unknown field `([^`]+)`", text)
        if "unknown field" in text:
            problem = "unknown"
        elif "length >=" in text or "got `null`" in text:
            problem = "required"
        elif "length <=" in text:
            problem = "too_long"
        elif re.search(r"Expected `(int|float)[^`]*` [<>]=", text):
            problem = "range"
        else:
            problem = "type"
        return cls(text, path.group(1) if path else None, problem if path else None)


def _time_fields(fields: type[Fields]) -> frozenset[str]:
    def is_time(t: msgspec.inspect.Type) -> bool:
        if isinstance(t, msgspec.inspect.UnionType):
            return any(is_time(u) for u in t.types)
        return isinstance(t, msgspec.inspect.StrType) and t.pattern == TIME_PATTERN

    return frozenset(f.name for f in msgspec.inspect.type_info(fields).fields if is_time(f.type))  # type: ignore[attr-defined]


TIME_FIELDS: dict[str, frozenset[str]] = {name: _time_fields(spec.fields) for name, spec in TABLES.items()}


def wire_time(value: dt.time | str) -> str:
    """A time of day in its one wire form: ``HH:MM``, with ``:SS`` only when the seconds are not zero
    (what ``<input type=time>`` gives), so "19:00" sent comes back "19:00" and is not seen as an edit."""
    if isinstance(value, str):
        value = dt.time.fromisoformat(value)
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def parse_changes(table: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Validate ``changes`` for ``table``; returns the given fields as wire values (JSON builtins)."""
    spec = TABLES.get(table)
    if spec is None:
        raise FieldError(f"unknown table {table!r}; known: {', '.join(sorted(TABLES))}")
    try:
        parsed = msgspec.convert(changes, spec.fields)
    except msgspec.ValidationError as e:
        raise FieldError.of(e) from None
    values = to_wire(table, msgspec.structs.asdict(parsed))
    # PostgreSQL text cannot hold U+0000 (SQLite can): refused on both, so one mutation is refused alike
    # everywhere instead of failing the whole push on PostgreSQL.
    if _holds_nul(values):
        raise FieldError("text may not contain the NUL character (U+0000)",
                         next(k for k, v in values.items() if _holds_nul(v)), "type")
    return values


def _holds_nul(values: dict[str, Any]) -> bool:
    # Encoded as JSON every NUL reads "\u0000", so most values are cleared by one C call; a typed
    # backslash followed by "u0000" reads the same, so a hit is checked value by value.
    return b"\\u0000" in msgspec.json.encode(values) and _nul_in(values)


def _nul_in(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_nul_in(v) for v in value.values())
    if isinstance(value, list):
        return any(_nul_in(v) for v in value)
    return False


def to_wire(table: str, values: dict[str, Any]) -> dict[str, Any]:
    """Field values as they travel and as history/conflicts keep them (dates, times and UUIDs as text,
    times in their canonical form)."""
    wire = msgspec.to_builtins({k: v for k, v in values.items() if v is not UNSET})
    for name in TIME_FIELDS[table] & wire.keys():
        if wire[name] is not None:
            wire[name] = wire_time(wire[name])
    return wire


def column_values(table: str, wire: dict[str, Any]) -> dict[str, Any]:
    """Validated wire values as the Python values the model columns take (a time as ``dt.time``)."""
    parsed = msgspec.convert(wire, TABLES[table].fields)
    values = {k: v for k, v in msgspec.structs.asdict(parsed).items() if v is not UNSET}
    for name in TIME_FIELDS[table] & values.keys():
        if values[name] is not None:
            values[name] = dt.time.fromisoformat(values[name])
    return values


def score_total(row: dict[str, Any]) -> int | None:
    scores = [row.get(f) for f in SCORE_FIELDS]
    given = [s for s in scores if s is not None]
    return sum(given) if given else None
