"""The merge rules, as pure functions of literal values (docs/sync-protocol.md, "Merge rules").

No last-write-wins on anything a person typed: when two people changed the same field to different
values, the server's value stays and the other is kept as a conflict for a person to settle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class FieldConflict:
    base: Any  # the value both sides started from
    mine: Any  # the incoming value (the cadre's)
    theirs: Any  # the value on the server now


@dataclass(frozen=True, slots=True)
class Merge:
    apply: dict[str, Any] = field(default_factory=dict)  # fields to write, each differing from the server's
    conflicts: dict[str, FieldConflict] = field(default_factory=dict)
    concurrent: bool = False  # others changed the record since the client's base version

    @property
    def status(self) -> Literal["applied", "merged", "conflict"]:
        if self.conflicts:
            return "conflict"
        return "merged" if self.concurrent else "applied"


def changed_since(history: Iterable[Mapping[str, tuple[Any, Any] | list[Any]]]) -> dict[str, Any]:
    """Fields changed by versions after the base, each with its value at the base version.

    ``history`` is the ``{field: (old, new)}`` of each later version, oldest first: the first entry
    that touches a field holds the field's value at the base.
    """
    base: dict[str, Any] = {}
    for changes in history:
        for name, (old, _new) in changes.items():
            base.setdefault(name, old)
    return base


def merge_update(current: Mapping[str, Any], changes: Mapping[str, Any],
                 base_values: Mapping[str, Any], concurrent: bool) -> Merge:
    """Three-way merge of one update.

    ``current``: the server's row; ``changes``: the fields the client changed, with its new values;
    ``base_values``: for fields others changed since the client's base version, their value at that
    base (see ``changed_since``); ``concurrent``: whether any version came after the base.

    - a field nobody else changed: the client's value applies;
    - a field others changed, that the client set to the same value: nothing to do, no conflict;
    - a field others changed and changed back to the base value: the client's value applies;
    - a field both changed to different values: conflict; the server's value stays.
    """
    apply: dict[str, Any] = {}
    conflicts: dict[str, FieldConflict] = {}
    for name, mine in changes.items():
        theirs = current.get(name)
        if same(mine, theirs):
            continue
        if name in base_values and not same(base_values[name], theirs):
            conflicts[name] = FieldConflict(base=base_values[name], mine=mine, theirs=theirs)
        else:
            apply[name] = mine
    return Merge(apply=apply, conflicts=conflicts, concurrent=concurrent)


DeleteDecision = Literal["delete", "already_deleted", "conflict"]


def decide_delete(edited_since_base: bool, deleted: bool) -> DeleteDecision:
    """A delete applies only to the record as the client saw it; deleting what someone else edited
    meanwhile is a conflict (the edit must not vanish unseen)."""
    if deleted:
        return "already_deleted"
    return "conflict" if edited_since_base else "delete"


def same(a: Any, b: Any) -> bool:
    """Equality of wire values: numbers by value (250 == 250.0), but a boolean is never a number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b
