"""Passwords are hashed with RFC 9106's parameters unless KADER_PASSWORD_HASH_COST=test is set, which only
the test suite does (its hundreds of accounts would otherwise cost minutes of argon2). A process started
without it, as production is, hashes at full cost; an unknown value stops the server from starting."""

from __future__ import annotations

import os
import subprocess
import sys

import argon2
import pytest

from server.auth import passwords

HASH_IN_A_NEW_PROCESS = "from server.auth.passwords import hash_password; print(hash_password('rahasia-desa'))"


def environment(**override: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KADER_PASSWORD_HASH_COST"}
    return env | override


def test_production_hashes_with_rfc_9106_parameters_when_nothing_is_set() -> None:
    # RFC 9106 §4, second recommended option: argon2id, t=3 passes, m=64 MiB, p=4 lanes, 128-bit salt,
    # 256-bit tag.
    expected = argon2.Parameters(type=argon2.Type.ID, version=19, salt_len=16, hash_len=32, time_cost=3,
                                 memory_cost=64 * 1024, parallelism=4)
    assert passwords.parameters(None) == expected
    made = subprocess.run([sys.executable, "-c", HASH_IN_A_NEW_PROCESS], env=environment(), capture_output=True,
                          text=True, timeout=120, check=True).stdout.strip()
    assert argon2.extract_parameters(made) == expected
    assert argon2.PasswordHasher().verify(made, "rahasia-desa")


def test_the_test_cost_is_honoured_only_when_set_and_still_argon2id() -> None:
    assert os.environ["KADER_PASSWORD_HASH_COST"] == "test"  # tests/conftest.py sets it for this suite
    made = passwords.hash_password("rahasia-desa")
    assert argon2.extract_parameters(made) == passwords.TEST and passwords.TEST.type is argon2.Type.ID
    assert passwords.verify_password(made, "rahasia-desa") and not passwords.verify_password(made, "salah")
    # a hash made at full cost (an account from production, restored) still verifies: the cost is in the hash
    full = argon2.PasswordHasher.from_parameters(passwords.PRODUCTION).hash("rahasia-desa")
    assert passwords.verify_password(full, "rahasia-desa")


def test_an_unknown_cost_stops_the_server_from_starting() -> None:
    for value in ("low", "TEST", "0"):
        with pytest.raises(ValueError, match="KADER_PASSWORD_HASH_COST"):
            passwords.parameters(value)
    started = subprocess.run([sys.executable, "-c", "from server.app import create_app; create_app()"],
                             env=environment(KADER_PASSWORD_HASH_COST="low"), capture_output=True, text=True,
                             timeout=120)
    assert started.returncode != 0 and "KADER_PASSWORD_HASH_COST" in started.stderr
