"""The app's field table (pwa/js/contract.js) is what ``kader contract`` generates from sync/records.py now,
and the generator carries every limit over or refuses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import msgspec
import pytest
from msgspec import inspect as mi

from sync.contract import COMMAND, OUTPUT, ContractError, field_spec, render

ROOT = Path(__file__).resolve().parent.parent


def test_the_checked_in_contract_is_what_the_generator_writes_now() -> None:
    checked_in = (ROOT / OUTPUT).read_text(encoding="utf-8")
    assert checked_in == render(), f"{OUTPUT} is out of date with sync/records.py: run `{COMMAND}` and commit it"


def test_kader_contract_writes_the_file_and_check_tells_when_it_is_stale(tmp_path: Path) -> None:
    out = tmp_path / "contract.js"
    kader = [sys.executable, "-c", "import sys; from server.cli import main; sys.exit(main(sys.argv[1:]))"]
    env = {"KADER_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    stale = subprocess.run([*kader, "contract", "--check", "--output", str(out)], capture_output=True, text=True,
                           env=env, cwd=ROOT)
    assert stale.returncode == 1 and "kader contract" in stale.stderr
    wrote = subprocess.run([*kader, "contract", "--output", str(out)], capture_output=True, text=True, env=env,
                           cwd=ROOT)
    assert wrote.returncode == 0, wrote.stderr
    assert out.read_text(encoding="utf-8") == render()
    current = subprocess.run([*kader, "contract", "--check", "--output", str(out)], capture_output=True, text=True,
                             env=env, cwd=ROOT)
    assert current.returncode == 0, current.stderr


def _spec(annotation: object) -> dict:
    struct = msgspec.defstruct("S", [("x", annotation)])
    return field_spec(mi.type_info(struct).fields[0].type, "x")  # type: ignore[attr-defined]


def test_limits_are_carried_over_literally() -> None:
    assert _spec(Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None) == {
        "type": "text", "minLength": 1, "maxLength": 200, "nullable": True}
    assert _spec(Annotated[int, msgspec.Meta(ge=0, le=10)]) == {"type": "integer", "min": 0, "max": 10,
                                                                "nullable": False}
    assert _spec(Annotated[list[Annotated[str, msgspec.Meta(max_length=5)]], msgspec.Meta(max_length=3)]) == {
        "type": "list", "item": {"type": "text", "maxLength": 5, "nullable": False}, "maxItems": 3, "nullable": False}


@pytest.mark.parametrize("annotation", [
    Annotated[int, msgspec.Meta(gt=0)],  # an exclusive bound the contract has no word for
    Annotated[float, msgspec.Meta(multiple_of=0.5)],
    int | str,
    dict[str, int],
])
def test_a_limit_the_contract_cannot_express_stops_the_generator(annotation: object) -> None:
    with pytest.raises(ContractError):
        _spec(annotation)
