"""Access scope by region-code prefix (as Kemendagri's Prodeskel does): a desa (13 characters) for a
cadre, a kecamatan (8) or kabupaten (5) for an admin. The one place that says what "within" means."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import InstrumentedAttribute


def covers(scope: str, code: str) -> bool:
    """Whether region ``code`` lies within ``scope`` (or is it)."""
    return code == scope or code.startswith(scope + ".")


def within(column: InstrumentedAttribute[str], scope: str) -> ColumnElement[bool]:
    """SQL for ``covers(scope, column)``."""
    return or_(column == scope, column.startswith(scope + ".", autoescape=True))
