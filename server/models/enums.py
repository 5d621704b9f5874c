"""Column type for the domain vocabularies: a VARCHAR with a CHECK, which both ORMs read as text."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum

from sync.vocabulary import (  # noqa: F401  (re-exported for the models)
    Jabatan,
    JenisKelamin,
    JenisMusyawarah,
    JenisPengkajian,
    Pendidikan,
    PolaPelaksanaan,
    ReviewState,
    Role,
    StatusKader,
    SumberDana,
    Unsur,
    WilayahKind,
)


def checked(enum: type[StrEnum], name: str) -> Enum:
    """A VARCHAR with a CHECK constraint holding the enum's values (not names)."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
