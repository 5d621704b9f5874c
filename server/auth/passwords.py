"""Password hashing (argon2id) and device tokens (random, stored only as SHA-256)."""

from __future__ import annotations

import functools
import hashlib
import secrets

from argon2 import Parameters, PasswordHasher, Type, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from server.settings import password_hash_cost

# RFC 9106's second recommended option: argon2id, 3 passes over 64 MiB, 4 lanes.
PRODUCTION = profiles.RFC_9106_LOW_MEMORY
# For the test suite alone, which hashes a password for each of hundreds of accounts: one pass over
# 1 MiB. Only ever used when KADER_PASSWORD_HASH_COST=test is set; nothing sets it by default.
TEST = Parameters(type=Type.ID, version=19, salt_len=16, hash_len=32, time_cost=1, memory_cost=1024,
                  parallelism=1)


def parameters(cost: str | None) -> Parameters:
    """The parameters for a KADER_PASSWORD_HASH_COST value: unset means production."""
    if cost is None:
        return PRODUCTION
    if cost == "test":
        return TEST
    raise ValueError(f"KADER_PASSWORD_HASH_COST={cost!r}: leave it unset (only the test suite sets it, to 'test')")


@functools.cache
def hasher() -> PasswordHasher:
    return PasswordHasher.from_parameters(parameters(password_hash_cost()))


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a miss costs as long as a hit."""
    return hasher().hash("kader-dummy-password")


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    # Verifying reads the parameters from the hash itself: a hash keeps the cost it was made with.
    try:
        return hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_password() -> str:
    """A demo/reset password that is easy to read aloud: 3 groups of 4 lower-case letters and digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))
