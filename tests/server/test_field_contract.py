"""The field contract over real HTTP on both databases: times as the phone's time input gives them
(HH:MM, or HH:MM:SS) are taken and come back in one canonical form in pulls, history and conflicts;
anything else is refused naming the field, and nothing is stored."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.conftest import DESA_GEROKGAK, LiveServer, Store
from tests.syncing import Device, mutation

RAPAT = {"jenis": "musyawarah_dusun", "tanggal": "2026-12-08", "tempat": "Balai Banjar Celukan"}


@pytest.fixture
def kader(server: LiveServer, store: Store) -> Device:
    return Device(server, server.login(*store.user("kader", DESA_GEROKGAK)))


@pytest.fixture
def kader2(server: LiveServer, store: Store) -> Device:
    return Device(server, server.login(*store.user("kader", DESA_GEROKGAK)))


def pulled(device: Device, rid: uuid.UUID) -> dict:
    return [c for c in device.pull_all() if c["record_id"] == str(rid)][-1]["row"]


def history(device: Device, table: str, rid: uuid.UUID) -> list[dict]:
    with device.http() as c:
        r = c.get(f"/api/sync/records/{table}/{rid}/history")
    assert r.status_code == 200, r.text
    return r.json()


def stored_time(store: Store, rid: uuid.UUID) -> dt.time | None:
    """The TIME column as the database gives it back (SQLite keeps text, PostgreSQL a time)."""
    value = store.scalar("SELECT jam_mulai FROM musyawarah WHERE id = :id",
                         id=str(rid) if store.url.startswith("sqlite") else rid)
    return dt.time.fromisoformat(value) if isinstance(value, str) else value


@pytest.mark.parametrize(("sent", "canonical", "as_time"), [
    ("19:00", "19:00", dt.time(19, 0)),
    ("00:00", "00:00", dt.time(0, 0)),
    ("23:59", "23:59", dt.time(23, 59)),
    ("07:30:15", "07:30:15", dt.time(7, 30, 15)),
    ("19:00:00", "19:00", dt.time(19, 0)),  # seconds of zero are dropped: the form the phone's input gives
])
def test_a_time_as_the_phone_types_it_is_taken_and_comes_back_canonical(
        kader: Device, kader2: Device, store: Store, sent: str, canonical: str, as_time: dt.time) -> None:
    rid = uuid.uuid4()
    [r] = kader.push(mutation("create", "musyawarah", rid, {**RAPAT, "jam_mulai": sent, "jam_selesai": "21:30"}))
    assert (r["status"], r["version"]) == ("applied", 1), r
    assert stored_time(store, rid) == as_time  # the column stays SQL TIME
    row = pulled(kader2, rid)
    assert (row["jam_mulai"], row["jam_selesai"]) == (canonical, "21:30")
    [create] = history(kader2, "musyawarah", rid)
    assert create["changes"]["jam_mulai"] == [None, canonical]
    assert create["changes"]["jam_selesai"] == [None, "21:30"]


def test_the_same_time_sent_again_in_its_other_form_is_no_change(kader: Device) -> None:
    rid = uuid.uuid4()
    kader.push(mutation("create", "musyawarah", rid, {**RAPAT, "jam_mulai": "19:00"}))
    [r] = kader.push(mutation("update", "musyawarah", rid, {"jam_mulai": "19:00:00"}, base_version=1))
    assert (r["status"], r["version"]) == ("applied", 1), r
    [r] = kader.push(mutation("update", "musyawarah", rid, {"jam_mulai": "19:45"}, base_version=1))
    assert (r["status"], r["version"]) == ("applied", 2), r
    assert [h["changes"].get("jam_mulai") for h in history(kader, "musyawarah", rid)] == [
        [None, "19:00"], ["19:00", "19:45"]]


def test_a_conflict_on_a_time_holds_both_sides_in_the_canonical_form(kader: Device, kader2: Device) -> None:
    rid = uuid.uuid4()
    kader.push(mutation("create", "musyawarah", rid, {**RAPAT, "jam_mulai": "19:00:00"}))
    [a] = kader.push(mutation("update", "musyawarah", rid, {"jam_mulai": "19:30:00"}, base_version=1))
    [b] = kader2.push(mutation("update", "musyawarah", rid, {"jam_mulai": "20:15"}, base_version=1))
    assert (a["status"], b["status"]) == ("applied", "conflict"), (a, b)
    [conflict] = [c["row"] for c in kader2.pull_all()
                  if c["table"] == "conflicts" and c["row"]["record_id"] == str(rid)]
    assert conflict["field_values"] == {"jam_mulai": {"base": "19:00", "mine": "20:15", "theirs": "19:30"}}


@pytest.mark.parametrize("sent", ["24:00", "7:5", "19.00", "19:60", "19:00\n", "19:00:00Z", "19:00:00.5", "", 1900])
def test_a_time_that_is_not_one_is_refused_naming_the_field_and_nothing_is_stored(
        kader: Device, store: Store, sent: object) -> None:
    rid = uuid.uuid4()
    [r] = kader.push(mutation("create", "musyawarah", rid, {**RAPAT, "jam_mulai": sent}))
    assert (r["status"], r["error_code"]) == ("rejected", "invalid_fields"), r
    assert "jam_mulai" in r["reason"]
    ids = {"id": str(rid) if store.url.startswith("sqlite") else rid}
    assert store.scalar("SELECT count(*) FROM musyawarah WHERE id = :id", **ids) == 0
    assert store.scalar("SELECT count(*) FROM history WHERE record_id = :id", **ids) == 0
