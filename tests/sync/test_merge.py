"""The merge rules from literal values (sync/merge.py)."""

from __future__ import annotations

from sync.merge import FieldConflict, changed_since, decide_delete, merge_update


def test_no_concurrent_change_applies_as_sent() -> None:
    m = merge_update({"nama": "A", "satuan": "m"}, {"nama": "B"}, {}, concurrent=False)
    assert (m.apply, m.conflicts, m.status) == ({"nama": "B"}, {}, "applied")


def test_fields_changed_only_by_the_client_merge_with_others_changes() -> None:
    current = {"kegiatan": "Drainase", "volume": 300.0}
    m = merge_update(current, {"kegiatan": "Drainase jalan dusun"}, {"volume": 250.0}, concurrent=True)
    assert (m.apply, m.conflicts, m.status) == ({"kegiatan": "Drainase jalan dusun"}, {}, "merged")


def test_same_field_changed_to_different_values_is_a_conflict_and_the_server_value_stays() -> None:
    m = merge_update({"volume": 300.0}, {"volume": 275.0}, {"volume": 250.0}, concurrent=True)
    assert m.apply == {}
    assert m.conflicts == {"volume": FieldConflict(base=250.0, mine=275.0, theirs=300.0)}
    assert m.status == "conflict"


def test_same_field_changed_to_the_same_value_is_no_conflict() -> None:
    m = merge_update({"volume": 300.0}, {"volume": 300}, {"volume": 250.0}, concurrent=True)
    assert (m.apply, m.conflicts, m.status) == ({}, {}, "merged")


def test_a_field_changed_and_changed_back_takes_the_clients_value() -> None:
    m = merge_update({"satuan": "m"}, {"satuan": "km"}, {"satuan": "m"}, concurrent=True)
    assert m.apply == {"satuan": "km"} and not m.conflicts


def test_conflicting_and_clean_fields_in_one_update_split() -> None:
    m = merge_update({"a": 1, "b": 2}, {"a": 10, "b": 20}, {"a": 0}, concurrent=True)
    assert m.apply == {"b": 20} and list(m.conflicts) == ["a"] and m.status == "conflict"


def test_a_boolean_is_not_the_number_one() -> None:
    m = merge_update({"flag": 1}, {"flag": True}, {}, concurrent=False)
    assert m.apply == {"flag": True}


def test_changed_since_takes_each_fields_value_at_the_base() -> None:
    history = [{"volume": [250.0, 260.0]}, {"volume": [260.0, 300.0], "satuan": ["m", "km"]}]
    assert changed_since(history) == {"volume": 250.0, "satuan": "m"}


def test_delete_of_the_version_seen_applies() -> None:
    assert decide_delete(edited_since_base=False, deleted=False) == "delete"


def test_delete_of_a_record_edited_meanwhile_is_a_conflict() -> None:
    assert decide_delete(edited_since_base=True, deleted=False) == "conflict"


def test_deleting_twice_is_harmless() -> None:
    assert decide_delete(edited_since_base=True, deleted=True) == "already_deleted"
