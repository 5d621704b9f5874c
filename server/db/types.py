"""Column types that SQLAlchemy and Piccolo (the admin) read identically on SQLite and PostgreSQL.

On SQLite, SQLAlchemy's own ``Uuid`` stores 32 hex digits and ``DateTime(timezone=True)`` drops the
offset, while Piccolo expects dashed UUID text in a column declared ``UUID`` and UTC text in a column
declared ``TIMESTAMPTZ`` (it picks its converters from the declared type). These types declare and
store exactly that on SQLite, and use the native types on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import types
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect


class _SqliteDeclared(types.UserDefinedType):
    """Text storage under a declared type name that Piccolo's SQLite converters recognise."""

    cache_ok = True

    def __init__(self, name: str) -> None:
        self.name = name

    def get_col_spec(self, **kw: object) -> str:
        return self.name


class UUID(types.TypeDecorator[uuid.UUID]):
    """UUID: native on PostgreSQL, dashed lower-case text declared ``UUID`` on SQLite."""

    impl = types.CHAR
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> types.TypeEngine:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.UUID(as_uuid=True))
        return dialect.type_descriptor(_SqliteDeclared("UUID"))

    def process_bind_param(self, value: uuid.UUID | str | None, dialect: Dialect) -> object:
        if value is None:
            return None
        value = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        return value if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value: object, dialect: Dialect) -> uuid.UUID | None:
        if value is None or isinstance(value, uuid.UUID):
            return value
        return uuid.UUID(str(value))


class TZDateTime(types.TypeDecorator[dt.datetime]):
    """Timezone-aware instant. Stored in UTC; naive values are refused rather than guessed."""

    impl = types.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> types.TypeEngine:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        return dialect.type_descriptor(_SqliteDeclared("TIMESTAMPTZ"))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> object:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: give it a time zone")
        value = value.astimezone(dt.UTC)
        if dialect.name == "postgresql":
            return value
        # Exactly the text Piccolo writes (str() of a UTC datetime: microseconds only when non-zero), so
        # an equality filter finds rows either ORM wrote. Text order is still time order: "+" sorts
        # before ".", so 12:00:00+00:00 < 12:00:00.500000+00:00.
        return str(value)

    def process_result_value(self, value: object, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class NaiveDateTime(types.TypeDecorator[dt.datetime]):
    """Naive timestamp declared ``TIMESTAMP`` on SQLite (which Piccolo converts; SQLAlchemy's
    ``DATETIME`` it does not). Only for Piccolo's own admin sessions, which are naive by design."""

    impl = types.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> types.TypeEngine:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=False))
        return dialect.type_descriptor(_SqliteDeclared("TIMESTAMP"))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> object:
        if value is None or dialect.name == "postgresql":
            return value
        return str(value.replace(tzinfo=None))

    def process_result_value(self, value: object, dialect: Dialect) -> dt.datetime | None:
        if isinstance(value, str):
            return dt.datetime.fromisoformat(value)
        return value  # type: ignore[return-value]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
