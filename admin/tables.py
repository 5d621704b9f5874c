"""Piccolo ``Table`` classes derived at start-up from the SQLAlchemy metadata, for piccolo-admin.

The SQLAlchemy models stay the single schema: each table and column here is read off
``Base.metadata``. A column type without a mapping is an error at start-up, not a silently
missing field. A column may steer its own mapping with ``info={"piccolo": {...}}`` on the
SQLAlchemy column: ``"type"`` replaces the Piccolo column class (on a foreign key: a plain column
instead of a link), any other key is passed to it (e.g. ``help_text``, ``secret``), so the decision
stays next to the column it concerns. A table with a composite key (never shown) names the one column
Piccolo takes as its key in ``info={"piccolo": {"primary_key": ...}}``. A column ``comment`` becomes the
admin's help text.

Every derived table carries ``admin.scope.ScopedRows``: inside an admin request its reads are limited to
the admin's region and Piccolo writes are refused (see that module); elsewhere it is a plain table.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Any

from piccolo import columns as pc
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.readable import Readable
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table, create_table_class
from sqlalchemy import Column as SAColumn
from sqlalchemy import MetaData
from sqlalchemy import Table as SATable
from sqlalchemy import types as sat
from sqlalchemy.engine import make_url

from admin.scope import GLOBAL, ScopedRows, region_column
from server.db import types as kt
from server.models import Base

# Exact SQLAlchemy type → Piccolo column class. Exact, not isinstance: Text, Enum and BigInteger are
# subclasses of String/Integer and must not fall into the wrong branch; an unknown subclass errors.
TYPE_MAP: dict[type[sat.TypeEngine], type[pc.Column]] = {
    sat.Integer: pc.Integer,
    sat.BigInteger: pc.BigInt,
    sat.String: pc.Varchar,
    sat.Text: pc.Text,
    sat.Boolean: pc.Boolean,
    sat.Float: pc.DoublePrecision,
    sat.Date: pc.Date,
    sat.DateTime: pc.Timestamp,  # naive only; aware instants must use TZDateTime (checked below)
    sat.Time: pc.Time,
    sat.JSON: pc.JSON,
    sat.Enum: pc.Varchar,  # checked strings (native_enum=False): text both ORMs read
    kt.UUID: pc.UUID,
    kt.TZDateTime: pc.Timestamptz,
    kt.NaiveDateTime: pc.Timestamp,
}

# Python-side defaults of the models, as Piccolo defaults (admin inserts do not run SQLAlchemy's).
CALLABLE_DEFAULTS: dict[Callable[[], Any], Callable[[], Any]] = {
    kt.utcnow: TimestamptzNow,
    list: list,
    dict: dict,
}

# Columns shown for a row in foreign-key links and pickers, first match wins (per table: READABLE_OF).
READABLE_NAMES = ("name", "nama", "username")
READABLE_OF = {"users": ("username",)}  # an account by its log-in name (admins often have no nama)


class UnmappedColumn(TypeError):
    """A SQLAlchemy column the admin does not know how to show: add a mapping or ``info["piccolo"]``."""


def piccolo_engine(database_url: str) -> Engine:
    """The Piccolo engine for the same database the app uses."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("the admin needs a SQLite file, not an in-memory database")
        # Same busy wait as the app's own connections: writers queue instead of failing.
        return SQLiteEngine(path=url.database, timeout=30)
    if url.get_backend_name() == "postgresql":
        config: dict[str, Any] = {"host": url.host, "port": url.port, "user": url.username,
                                  "password": url.password, "database": url.database, **url.query}
        # extensions=(): Piccolo would otherwise CREATE EXTENSION "uuid-ossp" on start-up — schema
        # changes belong to Alembic, and Kader makes its UUIDs itself.
        return PostgresEngine(config={k: v for k, v in config.items() if v is not None}, extensions=())
    raise ValueError(f"no Piccolo engine for database URL {url.render_as_string(hide_password=True)}")


def derive_tables(engine: Engine, metadata: MetaData = Base.metadata) -> dict[str, type[Table]]:
    """One Piccolo table per SQLAlchemy table, bound to ``engine``, keyed by table name."""
    derived: dict[str, type[Table]] = {}
    # Dependency order, so that a foreign key's target class already exists (self-references excepted).
    for table in metadata.sorted_tables:
        members: dict[str, Any] = {c.name: _column(table, c, derived) for c in table.columns}
        members["get_readable"] = classmethod(_readable_for(table))
        members["_kader_region"] = region_column(table.name, [c.name for c in table.columns])
        members["_kader_global"] = table.name in GLOBAL
        derived[table.name] = create_table_class(
            class_name=_class_name(table.name),
            bases=(ScopedRows, Table),
            class_kwargs={"tablename": table.name, "db": engine},
            class_members=members,
        )
    return derived


def _column(table: SATable, column: SAColumn, derived: dict[str, type[Table]]) -> pc.Column:
    where = f"{table.name}.{column.name}"
    override = dict(column.info.get("piccolo", {}))
    piccolo_type = override.pop("type", None)
    kwargs: dict[str, Any] = {"null": column.nullable, "primary_key": column.primary_key}
    if column.comment:
        kwargs["help_text"] = column.comment
    if column.primary_key and len(table.primary_key.columns) > 1:
        # Piccolo has no composite keys: the table names (``info={"piccolo": {"primary_key": …}}``) the
        # one column Piccolo takes as its key; only tables the admin never shows may do that.
        chosen = table.info.get("piccolo", {}).get("primary_key")
        if chosen is None:
            raise UnmappedColumn(f"{where}: composite primary keys are not supported by Piccolo")
        kwargs["primary_key"] = column.name == chosen

    if column.foreign_keys and piccolo_type is None:
        (fk,) = column.foreign_keys
        # Piccolo defaults to ON DELETE CASCADE; say what the database really does (only DDL reads it).
        on_delete = OnDelete(fk.ondelete.upper()) if fk.ondelete else OnDelete.no_action
        return pc.ForeignKey(_fk_target(table, column, derived), on_delete=on_delete, **kwargs,
                             **_default(column, where), **override)

    piccolo_type = piccolo_type or TYPE_MAP.get(type(column.type))
    if piccolo_type is None:
        raise UnmappedColumn(f"{where}: no Piccolo column for SQLAlchemy type {column.type!r}")
    if isinstance(column.type, sat.DateTime) and column.type.timezone:
        # SQLAlchemy drops the offset of these on SQLite; server.db.types.TZDateTime keeps the instant.
        raise UnmappedColumn(f"{where}: DateTime(timezone=True) loses the offset on SQLite — use TZDateTime")
    if column is table.autoincrement_column:  # the database numbers it (SQLAlchemy's own rule)
        piccolo_type = {pc.Integer: pc.Serial, pc.BigInt: pc.BigSerial}.get(piccolo_type, piccolo_type)
        kwargs = {"primary_key": True}
    if piccolo_type is pc.Varchar:
        if not getattr(column.type, "length", None):
            raise UnmappedColumn(f"{where}: String without a length — map it to Text")
        kwargs["length"] = column.type.length
    if isinstance(column.type, sat.Enum) and column.type.enum_class is not None:
        kwargs["choices"] = column.type.enum_class
    # Keys the database or Piccolo makes (serial, UUID4) need no default and no input in the form.
    if piccolo_type not in (pc.Serial, pc.BigSerial, pc.UUID) or not column.primary_key:
        kwargs.update(_default(column, where))
    return piccolo_type(**kwargs, **override)


def _fk_target(table: SATable, column: SAColumn, derived: dict[str, type[Table]]) -> type[Table] | str:
    (fk,) = column.foreign_keys
    target = fk.column
    if not target.primary_key:
        raise UnmappedColumn(f"{table.name}.{column.name}: Piccolo foreign keys must reference a primary key")
    if target.table is table:
        return "self"
    return derived[target.table.name]


def _default(column: SAColumn, where: str) -> dict[str, Any]:
    """Piccolo ``default``/``required`` matching the model's Python-side default."""
    default = column.default
    if default is None:
        # No model default: the admin form must ask (NULL is the default of nullable columns).
        return {"default": None} if column.nullable else {"required": True}
    if default.is_scalar:
        value = default.arg
        return {"default": value.value if isinstance(value, enum.Enum) else value}
    if default.is_callable:
        fn = getattr(default.arg, "__wrapped__", default.arg)  # SQLAlchemy wraps it to take a context
        if fn in CALLABLE_DEFAULTS:
            return {"default": CALLABLE_DEFAULTS[fn]()}
    raise UnmappedColumn(f"{where}: no Piccolo default for {default!r}")


def _readable_for(table: SATable) -> Callable[[type[Table]], Readable]:
    """How a row of ``table`` is named in the admin: its code (if the key is one) and its name."""
    names = [n for n in READABLE_OF.get(table.name, READABLE_NAMES) if n in table.columns][:1]
    keys = list(table.primary_key.columns)
    pk = keys[0] if len(keys) == 1 else table.columns[table.info["piccolo"]["primary_key"]]
    if isinstance(pk.type, sat.String) or not names:
        names.insert(0, pk.name)

    def get_readable(cls: type[Table]) -> Readable:
        return Readable(template=" ".join(["%s"] * len(names)),
                        columns=[cls._meta.get_column_by_name(n) for n in names])

    return get_readable


def _class_name(tablename: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[_\W]+", tablename) if part)
