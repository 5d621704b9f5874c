"""Peringkat: where a pengkajian or usulan stands among the others of its desa (docs/sync-protocol.md,
"Peringkat"). Computed from the scores whenever it is shown, never stored or sent, so two phones and
the exports cannot disagree. The phone applies the same rule: ``rankByScore`` in
pwa/js/screens/common.js (keep the two in step).

The rule:

- ranked together: the usulan of one desa; the pengkajian of one desa and one jenis (masalah,
  potensi and kebutuhan apart);
- left out, neither ranked nor counted: deleted records and those the review rejected (``ditolak``);
- competition ranking by total score (``skor_total``, the sum of the scores given), highest first:
  equal totals share a rank and the next rank counts them all ("1, 2, 2, 4");
- a record with no score at all is unranked (a total of 0 is a score).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sync.vocabulary import ReviewState


def competition_ranks(totals: Sequence[int | None]) -> list[int | None]:
    """The rank of each total among ``totals`` (one group), in the same order; None stays unranked."""
    first: dict[int, int] = {}
    for place, total in enumerate(sorted((t for t in totals if t is not None), reverse=True), start=1):
        first.setdefault(total, place)
    return [None if t is None else first[t] for t in totals]


def is_ranked(row: dict[str, Any]) -> bool:
    """Whether a record takes part in its group's ranking at all (not deleted, not rejected)."""
    return row.get("deleted_at") is None and row.get("review_state") != ReviewState.ditolak


def rank_group(table: str, row: dict[str, Any]) -> tuple[str, ...]:
    """The records ranked together with ``row``."""
    return (row["desa_code"], row["jenis"]) if table == "pengkajian" else (row["desa_code"],)


def ranks(table: str, rows: Sequence[dict[str, Any]]) -> list[int | None]:
    """The rank of each row (wire or column values: desa_code, jenis, skor_total, review_state,
    deleted_at) among ``rows``, grouped and filtered by the rule above; in the same order."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, row in enumerate(rows):
        if is_ranked(row):
            groups.setdefault(rank_group(table, row), []).append(i)
    out: list[int | None] = [None] * len(rows)
    for members in groups.values():
        for i, rank in zip(members, competition_ranks([rows[i]["skor_total"] for i in members]), strict=True):
            out[i] = rank
    return out
