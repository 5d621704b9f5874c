"""Shared fixtures, and which tests are slow and on which databases they run.

``db_url`` is parametrised over both engines; each run makes (and afterwards drops) its own database,
migrated to head, with the regions of Kecamatan Gerokgak and Kecamatan Ganra loaded. ``server`` runs
the real app in a uvicorn subprocess on that database and yields its base URL; tests talk HTTP to it.
The helpers live in ``tests/support/`` (imported here under their old names too).

Marks, set here so that a new test is sorted without anyone remembering to (``pytest -m "not slow"`` is
the lane to run between edits, the whole suite the one before a merge):

- ``slow``: tests that drive Chromium (everything under tests/pwa/, any module importing Playwright),
  property runs (hypothesis and schemathesis), fault tests (tests/faults/), and any test marked so
  itself.
- Chromium tests run on PostgreSQL, the production database, only: what they check is the app, and
  the server code under them runs on both databases in the API tests. A browser test about the
  database engine itself says ``@pytest.mark.every_database``. ``@pytest.mark.only_postgresql`` puts
  any other test on PostgreSQL alone. The dropped variants are reported as deselected.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from server.db.migrate import upgrade
from server.wilayah.loader import load_wilayah
from tests.support.database import (  # noqa: F401  (re-exported: tests import these from here too)
    DESA_GANRA,
    DESA_GEROKGAK,
    DESA_PEJARAKAN,
    GANRA,
    GEROKGAK,
    PG_HOST,
    PG_PORT,
    PG_USER,
    Store,
    pg_admin,
    pg_reachable,
    postgres_database,
)
from tests.support.database import pg_admin as _pg_admin  # noqa: F401
from tests.support.servers import (  # noqa: F401
    KADER,
    TEST_ENV,
    LiveServer,
    children,
    free_port,
    start_server,
    stop_server,
)

TESTS = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    # Before anything hashes a password: the accounts the tests make here, and every server and `kader`
    # command they start (which inherit the environment), hash at argon2's test cost.
    os.environ.update(TEST_ENV)


def drives_chromium(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    uses_playwright = module is not None and any(
        getattr(value, "__module__", "").startswith("playwright") for value in vars(module).values())
    return uses_playwright or (TESTS / "pwa") in Path(item.path).parents


def is_property_run(item: pytest.Item) -> bool:
    """A hypothesis test: ``@given`` on the test, or in its body (a property over a live server's
    fixtures), or a state machine run from it."""
    function = getattr(item, "function", None)
    names = set(function.__code__.co_names) if function is not None else set()
    return getattr(function, "is_hypothesis_test", False) or bool({"given", "run_state_machine_as_test"} & names)


def database_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("db_url") if callspec else None


@pytest.hookimpl(tryfirst=True)  # before -m "not slow" selects by the marks set here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    for item in items:
        browser = drives_chromium(item)
        if browser or is_property_run(item) or (TESTS / "faults") in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)
        one_database = (browser and not item.get_closest_marker("every_database")) or item.get_closest_marker(
            "only_postgresql")
        (dropped if one_database and database_of(item) == "sqlite" else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'kader.sqlite3'}"
        else:
            url = stack.enter_context(postgres_database())
        upgrade(url)
        store = Store(url)
        store.run(lambda s: load_wilayah(s, GEROKGAK))
        store.run(lambda s: load_wilayah(s, GANRA))
        yield url
        store.close()


@pytest.fixture(scope="session")
def store(db_url: str) -> Store:
    return Store(db_url)


@pytest.fixture
def desa(store: Store) -> str:
    """A desa of Kecamatan Gerokgak that only this test writes in."""
    return store.new_desa()


@pytest.fixture(scope="session")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(db_url, tmp_path_factory.mktemp("server"))
    yield live
    stop_server(live)
