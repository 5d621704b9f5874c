"""What the suite needs from the machine (PostgreSQL, Chromium): a test that cannot have it fails, so a
run never reports success having tested less. A developer without one may let those tests skip by
naming it in ``KADER_TEST_MAY_SKIP`` (comma-separated: ``postgresql``, ``chromium``)."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

MAY_SKIP = {name.strip() for name in os.environ.get("KADER_TEST_MAY_SKIP", "").split(",") if name.strip()}


def missing(what: str, reason: str) -> NoReturn:
    if what in MAY_SKIP:
        pytest.skip(reason)
    pytest.fail(f"{reason} (KADER_TEST_MAY_SKIP={what} lets these tests skip instead)", pytrace=False)
