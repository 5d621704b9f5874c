"""Bearer device-token authentication for every ``/api/`` path except the public ones."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from server.auth.service import principal_for_token
from server.db.session import Database
from server.errors import KaderError

PUBLIC_PATHS = ["^/api/health$", "^/api/health/live$", "^/api/health/ready$", "^/api/auth/login$"]


class DeviceTokenMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise KaderError("auth_required", "Masuk dulu: kirim token perangkat di header Authorization: Bearer.")
        database: Database = connection.app.state.database
        async with database.token_sessions() as db:
            principal = await principal_for_token(db, token.strip())
        if principal is None:
            raise KaderError("auth_invalid_token", "Token perangkat tidak dikenal atau sudah dicabut; masuk lagi.")
        return AuthenticationResult(user=principal, auth=token)
