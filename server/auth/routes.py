"""HTTP: log in, log out, who am I."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.params import JSONBody

from server.auth import service
from server.http import DB, Caller
from server.models import User
from server.openapi_problems import problems


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    device_name: Annotated[str, msgspec.Meta(max_length=120)] = "perangkat"


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/login", operation_id="login", status_code=200, summary="Log in and receive a long-lived device token",
          responses=problems(401))
    async def login(self, data: JSONBody[LoginRequest], db: DB, state: State) -> service.LoginResult:
        return await service.login(db, state.settings, data.username, data.password, data.device_name,
                                   state.database.read_sessions)

    @post("/logout", operation_id="logout", status_code=204, summary="Revoke this device's token")
    async def logout(self, request: Caller, db: DB) -> None:
        await service.revoke_device(db, request.user.device_id)

    @get("/me", operation_id="me", summary="The logged-in account and its scope")
    async def me(self, request: Caller, db: DB) -> service.UserInfo:
        user = await db.get_one(User, request.user.user_id)
        return await service.user_info(db, user)
