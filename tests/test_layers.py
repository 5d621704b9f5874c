"""The layers of the code, as the README's map draws them, checked by reading every import (top-level or
inside a function) of every module:

0. the pure core of sync — ``sync.protocol``, ``sync.records``, ``sync.merge``, ``sync.vocabulary``,
   ``sync.contract``, ``sync.ranking``: the wire schema, the merge and ranking rules; no database, no web
   framework, no asyncio;
1. the data layer — ``server.settings``, ``server.db``, ``server.models``, ``server.scope``: tables, engine,
   column types, the one transaction helper; no web framework and nothing above it;
2. the engine — ``sync.engine``: the one write path, push, pull, resolve; on top of 0 and 1 only;
3. services and HTTP doors — the rest of ``server`` and ``admin``;
4. the composition roots — ``server.app`` (the only module outside ``admin`` that imports ``admin``) and
   ``server.cli``.

A module may import its own layer and the ones below. So the engine and the server's doors no longer form
a cycle: the engine stands on the data layer, the doors stand on the engine.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ("sync.protocol", "sync.records", "sync.merge", "sync.vocabulary", "sync.contract", "sync.ranking")
DATA = ("server.settings", "server.db", "server.models", "server.scope")
ROOTS = ("server.app", "server.cli")
WEB = ("litestar", "piccolo", "piccolo_admin", "piccolo_api", "uvicorn")


def _is(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layer(module: str) -> int:
    if _is(module, CORE):
        return 0
    if _is(module, DATA):
        return 1
    if _is(module, ("sync.engine",)):
        return 2
    if _is(module, ROOTS):
        return 4
    if _is(module, ("server", "admin", "sync")):
        return 3
    raise AssertionError(f"{module} is in no layer")


def modules() -> dict[str, set[str]]:
    """Every module of server/, sync/ and admin/ (migrations aside) → the modules it imports."""
    found: dict[str, set[str]] = {}
    for package in ("server", "sync", "admin"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            imports: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    imports.update(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    # ``from sync import records`` imports ``sync.records``, not the whole of ``sync``.
                    if node.module not in OURS:
                        imports.add(node.module)
                    imports.update(f"{node.module}.{a.name}" for a in node.names)
            found[name] = imports
    return found


OURS = ("server", "sync", "admin")
MODULES = modules()


def test_the_scan_sees_the_code() -> None:
    assert {"sync.merge", "sync.engine.push", "server.db.session", "server.app", "admin.office"} <= MODULES.keys()


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m) == 0))
def test_the_pure_core_imports_no_database_web_or_asyncio(module: str) -> None:
    bad = sorted(i for i in MODULES[module]
                 if _is(i, ("sqlalchemy", "asyncio", *WEB)) or (_is(i, OURS) and not _is(i, CORE)))
    assert not bad, f"{module} imports {bad}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m) == 1))
def test_the_data_layer_imports_no_web_framework_and_nothing_above_it(module: str) -> None:
    bad = sorted(i for i in MODULES[module] if _is(i, WEB) or (_is(i, OURS) and layer(_module_of(i)) > 1))
    assert not bad, f"{module} imports {bad}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m) == 2))
def test_the_engine_imports_no_web_framework_no_admin_and_no_doors(module: str) -> None:
    bad = sorted(i for i in MODULES[module] if _is(i, WEB) or (_is(i, OURS) and layer(_module_of(i)) > 2))
    assert not bad, f"{module} imports {bad}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m) == 3))
def test_doors_do_not_import_the_composition_roots(module: str) -> None:
    bad = sorted(i for i in MODULES[module] if _is(i, OURS) and layer(_module_of(i)) > 3)
    assert not bad, f"{module} imports {bad}"


def test_only_the_app_imports_admin() -> None:
    importers = sorted(m for m, imports in MODULES.items()
                       if not _is(m, ("admin",)) and any(_is(i, ("admin",)) for i in imports))
    assert importers == ["server.app"]


def _module_of(name: str) -> str:
    """``from server.models import Dusun`` records ``server.models.Dusun``: the longest known module."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name
