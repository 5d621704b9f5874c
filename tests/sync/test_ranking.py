"""The one rank rule (sync/ranking.py), on literal values: the exports use it, the phone mirrors it."""

from __future__ import annotations

from sync.ranking import competition_ranks, ranks

GANRA, PATAS = "73.08.03.2001", "51.08.01.2010"


def test_the_highest_total_is_first() -> None:
    assert competition_ranks([15, 21, 18]) == [3, 1, 2]


def test_equal_totals_share_a_rank_and_the_next_rank_counts_them_all() -> None:
    assert competition_ranks([21, 18, 18, 15]) == [1, 2, 2, 4]
    assert competition_ranks([10, 10, 10]) == [1, 1, 1]
    assert competition_ranks([5, 9, 9, 9, 1]) == [4, 1, 1, 1, 5]


def test_unscored_records_are_unranked_and_do_not_count_but_zero_is_a_score() -> None:
    assert competition_ranks([None, 12, None, 0]) == [None, 1, None, 2]
    assert competition_ranks([None, None]) == [None, None]
    assert competition_ranks([]) == []


def row(total: int | None, desa: str = GANRA, jenis: str = "masalah", state: str = "diajukan",
        deleted: str | None = None) -> dict:
    return {"skor_total": total, "desa_code": desa, "jenis": jenis, "review_state": state, "deleted_at": deleted}


def test_usulan_are_ranked_within_their_desa() -> None:
    rows = [row(20), row(25, desa=PATAS), row(21), row(10, desa=PATAS)]
    assert ranks("usulan", rows) == [2, 1, 1, 2]


def test_pengkajian_are_ranked_within_their_desa_and_jenis() -> None:
    rows = [row(20, jenis="masalah"), row(25, jenis="potensi"), row(21, jenis="masalah"), row(20, jenis="potensi"),
            row(19, jenis="kebutuhan")]
    assert ranks("pengkajian", rows) == [2, 1, 1, 2, 1]


def test_rejected_and_deleted_records_are_neither_ranked_nor_counted() -> None:
    rows = [row(25, state="ditolak"), row(24, deleted="2026-12-01T00:00:00Z"), row(18), row(18, state="diverifikasi"),
            row(12, state="perlu_perbaikan"), row(None)]
    assert ranks("usulan", rows) == [None, None, 1, 1, 3, None]
