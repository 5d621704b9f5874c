"""Who is calling, and which part of the country they may reach."""

from __future__ import annotations

import msgspec
from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from server.errors import KaderError
from server.models.enums import Role
from server.scope import covers, within


class Principal(msgspec.Struct, frozen=True):
    user_id: int
    username: str
    role: Role
    scope: str  # wilayah code: a desa for a kader; a kecamatan or kabupaten for an admin
    device_id: int

    def covers(self, code: str) -> bool:
        """Whether ``code`` (a desa or any region) lies within this principal's scope."""
        return covers(self.scope, code)

    def require_covers(self, code: str) -> None:
        # 404, not 403: another desa's data is not this caller's business, not even its existence.
        if not self.covers(code):
            raise KaderError("not_found", f"Wilayah {code} tidak ditemukan dalam cakupan akun ini.")

    def require_admin(self) -> None:
        if self.role != Role.admin:
            raise KaderError("forbidden", "Hanya admin kecamatan yang boleh melakukan ini.")

    def scope_filter(self, column: InstrumentedAttribute[str]) -> ColumnElement[bool]:
        """SQL for "``column`` lies within scope", using the code's dotted prefix (as Prodeskel does)."""
        return within(column, self.scope)
