"""Access scope by region-code prefix (as Kemendagri's Prodeskel does): a desa (13 characters) for a
cadre, a kecamatan (8) or kabupaten (5) for an admin. The one place that says what "within" means."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import InstrumentedAttribute


def covers(scope: str, code: str) -> bool:
    """Whether region ``code`` lies within ``scope`` (or is it)."""
    return code == scope or code.startswith(scope + ".")


DESA_CODE_LENGTH = 13  # "51.08.01.2001": a desa has no regions below it


def within(column: InstrumentedAttribute[str] | ColumnElement[str], scope: str) -> ColumnElement[bool]:
    """SQL for ``covers(scope, column)``. A desa scope is plain equality: an index on (column, …) then
    answers it in order, where the OR of the general form makes the database collect and sort."""
    if len(scope) == DESA_CODE_LENGTH:
        return column == scope
    return or_(column == scope, column.startswith(scope + ".", autoescape=True))
