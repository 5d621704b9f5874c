"""Log-in, device tokens, throttling of failed log-ins, and account administration."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import weakref

import msgspec
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.passwords import hash_password, new_token, token_hash, verify_password
from server.auth.principal import Principal
from server.db.types import utcnow
from server.errors import KaderError
from server.models import Device, LoginFailure, User, Wilayah
from server.models.enums import Role
from server.settings import Settings

SCOPE_LEVELS = {Role.kader: (4,), Role.admin: (2, 3)}  # desa; kabupaten or kecamatan
_VERIFYING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _verify_slot() -> asyncio.Semaphore:
    """The running event loop's one password check at a time (one per loop: tests run several loops)."""
    loop = asyncio.get_running_loop()
    if loop not in _VERIFYING:
        _VERIFYING[loop] = asyncio.Semaphore(1)
    return _VERIFYING[loop]


class UserInfo(msgspec.Struct):
    username: str
    nama: str
    role: Role
    wilayah_code: str
    wilayah_name: str


class LoginResult(msgspec.Struct):
    token: str
    device_id: int
    user: UserInfo


async def login(db: AsyncSession, settings: Settings, username: str, password: str, device_name: str,
                reader: async_sessionmaker[AsyncSession]) -> LoginResult:
    """Check the password in a read-only session first, then write the device in ``db``: on SQLite the
    write transaction holds the one write lock, and argon2 is deliberately slow."""
    name_hash = hashlib.sha256(username.strip().encode()).hexdigest()
    async with reader() as r:
        found = (await r.execute(select(User.id, User.password, User.locked_until)
                                 .where(User.username == username.strip()))).first()
        # A name no account has is locked by the same rule (LoginFailure): the lock tells nothing.
        locked_until = found.locked_until if found is not None else await r.scalar(
            select(LoginFailure.locked_until).where(LoginFailure.username_hash == name_hash))
    now = utcnow()
    if locked_until is not None and locked_until > now:
        wait = int((locked_until - now).total_seconds()) + 1
        raise KaderError("too_many_attempts", f"Terlalu banyak percobaan gagal. Coba lagi dalam {wait} detik.",
                         headers={"Retry-After": str(wait)})
    # In a thread, so the worker's event loop keeps serving others meanwhile; one at a time per worker,
    # so that a burst of log-ins queues behind itself instead of taking every core from pushes and pulls
    # (each argon2 check costs 0.1-0.3 CPU-s here: bench/README.md).
    async with _verify_slot():
        valid = await asyncio.to_thread(verify_password, found.password if found else None, password)
    user = await db.get(User, found.id) if found is not None else None
    if not valid or user is None or not user.active:
        if user is not None:
            await _count_failure(db, settings, user.id, now)
        elif found is None:
            await _count_unknown_failure(db, settings, name_hash, now)
        raise KaderError("auth_invalid_credentials", "Nama pengguna atau kata sandi salah.")
    token = new_token()
    device = Device(user_id=user.id, name=device_name.strip() or "perangkat", token_hash=token_hash(token),
                    last_seen_at=now)
    db.add(device)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login = now
    await db.flush()
    return LoginResult(token=token, device_id=device.id, user=await user_info(db, user))


async def _count_failure(db: AsyncSession, settings: Settings, user_id: int, now: dt.datetime) -> None:
    """Count a failed log-in and lock the account for a doubling time after too many.

    Committed on its own, because the request itself fails (and would roll it back). The counter lives
    in the database so every worker sees it.
    """
    failures = await db.scalar(
        update(User).where(User.id == user_id).values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
    )
    assert failures is not None
    until = _lock_until(settings, failures, now)
    if until is not None:
        await db.execute(update(User).where(User.id == user_id).values(locked_until=until))
    await db.commit()


def _lock_until(settings: Settings, failures: int, now: dt.datetime) -> dt.datetime | None:
    """After too many failures: locked for 30 s, doubling with each further one, capped."""
    over = failures - settings.login_max_failures
    if over < 0:
        return None
    return now + dt.timedelta(seconds=min(30 * 2**over, settings.login_lock_seconds_max))


async def _count_unknown_failure(db: AsyncSession, settings: Settings, name_hash: str, now: dt.datetime) -> None:
    """``_count_failure`` for a username no account has (LoginFailure). Names idle for a day are
    forgotten, so that guessing names cannot fill the table."""
    insert = postgresql.insert if db.bind.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(LoginFailure).values(username_hash=name_hash, failed_logins=1, last_failure_at=now)
    failures = await db.scalar(stmt.on_conflict_do_update(
        index_elements=["username_hash"],
        set_={"failed_logins": LoginFailure.failed_logins + 1, "last_failure_at": now},
    ).returning(LoginFailure.failed_logins))
    assert failures is not None
    until = _lock_until(settings, failures, now)
    if until is not None:
        await db.execute(update(LoginFailure).where(LoginFailure.username_hash == name_hash)
                         .values(locked_until=until))
    await db.execute(delete(LoginFailure).where(LoginFailure.last_failure_at < now - dt.timedelta(days=1)))
    await db.commit()


async def user_info(db: AsyncSession, user: User) -> UserInfo:
    name = await db.scalar(select(Wilayah.name).where(Wilayah.code == user.wilayah_code))
    return UserInfo(user.username, user.nama, user.role, user.wilayah_code, name or "")


async def principal_for_token(db: AsyncSession, token: str) -> Principal | None:
    row = (
        await db.execute(
            select(Device.id, User.id, User.username, User.role, User.wilayah_code)
            .join(User, User.id == Device.user_id)
            .where(Device.token_hash == token_hash(token), Device.revoked_at.is_(None), User.active.is_(True))
        )
    ).first()
    if row is None:
        return None
    device_id, user_id, username, role, scope = row
    return Principal(user_id=user_id, username=username, role=Role(role), scope=scope, device_id=device_id)


async def revoke_device(db: AsyncSession, device_id: int) -> None:
    await db.execute(
        update(Device).where(Device.id == device_id, Device.revoked_at.is_(None)).values(revoked_at=utcnow())
    )


async def revoke_devices(db: AsyncSession, username: str) -> int:
    user = await _user(db, username)
    result = await db.execute(
        update(Device).where(Device.user_id == user.id, Device.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    return result.rowcount


async def create_user(db: AsyncSession, username: str, password: str, role: Role, wilayah_code: str,
                      nama: str = "") -> User:
    username = username.strip()
    if not username or len(username) > 100:
        raise KaderError("validation_failed", "Nama pengguna wajib diisi (paling panjang 100 karakter).")
    if len(password) < 8:
        raise KaderError("validation_failed", "Kata sandi paling sedikit 8 karakter.")
    region = await db.get(Wilayah, wilayah_code)
    if region is None:
        raise KaderError("wilayah_unknown", f"Wilayah {wilayah_code} belum dimuat (kader wilayah load …).")
    if region.level not in SCOPE_LEVELS[role]:
        want = "a desa/kelurahan" if role == Role.kader else "a kecamatan or kabupaten"
        raise KaderError("validation_failed", f"A {role.value} account's wilayah must be {want}, not {region.kind}.")
    if await db.scalar(select(User.id).where(User.username == username)) is not None:
        raise KaderError("username_taken", f"Nama pengguna {username!r} sudah dipakai.")
    user = User(username=username, password=hash_password(password), role=role, wilayah_code=wilayah_code,
                nama=nama, admin=role == Role.admin, first_name=nama or None)
    db.add(user)
    await db.flush()
    return user


async def reset_password(db: AsyncSession, username: str, password: str) -> None:
    if len(password) < 8:
        raise KaderError("validation_failed", "Kata sandi paling sedikit 8 karakter.")
    user = await _user(db, username)
    user.password = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None


async def _user(db: AsyncSession, username: str) -> User:
    user = await db.scalar(select(User).where(User.username == username))
    if user is None:
        raise KaderError("not_found", f"Pengguna {username!r} tidak ada.")
    return user
