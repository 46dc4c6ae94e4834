"""Reads of the QuickBooks lists into the mirror, and the `quickbooks.changed` events they tell."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qbsync.domain.mirror import ListEntry, ListRead, ListType
from qbsync.domain.sync import SyncRecord, SyncState
from qbsync.usecases.quickbooks_side import QUICKBOOKS_CHANGED, QuickBooksSide
from tests.unit.connection_fakes import RecordingEvents
from tests.unit.fakes import FixedClock
from tests.unit.mirror_fakes import InMemoryMirror
from tests.unit.sync_fakes import InMemoryRecordStore

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def cust(qid: str, name: str, **kw: object) -> ListEntry:
    return ListEntry(ListType.CUSTOMER, qid, name, modified_at=T0, **kw)  # type: ignore[arg-type]


@pytest.fixture
def side() -> QuickBooksSide:
    return QuickBooksSide(InMemoryMirror(), InMemoryRecordStore(), RecordingEvents(), FixedClock())


def told(side: QuickBooksSide) -> list[tuple[str, str, object]]:
    events = side.events.published  # type: ignore[attr-defined]
    assert all(t == QUICKBOOKS_CHANGED for t, _, _ in events)
    return [(d["change"], d["quickbooks_id"], d["record_id"]) for _, _, d in events]


def load(side: QuickBooksSide, *entries: ListEntry) -> None:
    side.take("t1", ListRead(ListType.CUSTOMER, entries, complete=True, through=T0))


def test_a_first_complete_read_fills_the_mirror_and_tells_nothing(side):
    load(side, cust("1", "Ada"), cust("2", "Grace"))
    assert {e.name for e in side.mirror.entries("t1", ListType.CUSTOMER)} == {"Ada", "Grace"}
    assert told(side) == []
    assert side.mirror.marks("t1")[ListType.CUSTOMER].loaded
    assert side.mirror.marks("t1")[ListType.CUSTOMER].through == T0


def test_later_reads_tell_each_change_once_with_the_linked_record(side):
    load(side, cust("1", "Ada"), cust("2", "Grace"), cust("3", "Alan"))
    linked = SyncRecord("t1", "customer", "c-1", {}, SyncState.SYNCED, T0, quickbooks_id="1")
    side.records.save(linked, None, None)
    later = T0 + timedelta(hours=1)
    read = ListRead(
        ListType.CUSTOMER,
        [cust("1", "Ada King"), cust("2", "Grace", active=False), cust("4", "Edsger"), cust("3", "Alan")],
        removed=["404"],
        through=later,
    )
    taken = side.take("t1", read)
    assert told(side) == [("updated", "1", "c-1"), ("inactivated", "2", None), ("created", "4", None)]
    assert taken.stored == 3
    side.take("t1", read)  # the same changes read again: nothing new to tell
    assert len(told(side)) == 3
    assert side.mirror.marks("t1")[ListType.CUSTOMER].through == later


def test_a_complete_read_removes_what_quickbooks_no_longer_has_and_tells_it(side):
    load(side, cust("1", "Ada"), cust("2", "Grace"))
    taken = side.take("t1", ListRead(ListType.CUSTOMER, [cust("1", "Ada")], complete=True))
    assert taken.removed == 1
    assert told(side) == [("deleted", "2", None)]
    assert [e.quickbooks_id for e in side.mirror.entries("t1", ListType.CUSTOMER)] == ["1"]


def test_a_deletion_reported_by_a_change_read_is_told_once(side):
    load(side, cust("1", "Ada"))
    side.take("t1", ListRead(ListType.CUSTOMER, removed=["1"]))
    side.take("t1", ListRead(ListType.CUSTOMER, removed=["1"]))
    assert told(side) == [("deleted", "1", None)]


def test_a_version_moving_on_its_own_is_stored_but_not_told(side):
    load(side, cust("1", "Ada", version="0"))
    side.take("t1", ListRead(ListType.CUSTOMER, [cust("1", "Ada", version="1")]))
    assert told(side) == []
    assert side.mirror.get_many("t1", ListType.CUSTOMER, ["1"])["1"].version == "1"


def test_a_read_of_one_list_refuses_entries_of_another():
    with pytest.raises(ValueError, match="vendor"):
        ListRead(ListType.CUSTOMER, [ListEntry(ListType.VENDOR, "1", "Acme")])


def test_tenants_do_not_share_a_mirror(side):
    load(side, cust("1", "Ada"))
    assert list(side.mirror.entries("t2", ListType.CUSTOMER)) == []


def test_a_first_load_read_in_pages_keeps_every_page_tells_nothing_and_counts_as_loaded_after_its_last(side):
    later = T0 + timedelta(hours=1)
    side.take("t1", ListRead(ListType.CUSTOMER, [cust("1", "Ada"), cust("2", "Grace")]))
    assert not side.mirror.marks("t1")[ListType.CUSTOMER].loaded
    side.take("t1", ListRead(ListType.CUSTOMER, [cust("3", "Alan")], through=later, ends_load=True))
    assert {e.name for e in side.mirror.entries("t1", ListType.CUSTOMER)} == {"Ada", "Grace", "Alan"}
    assert told(side) == []
    mark = side.mirror.marks("t1")[ListType.CUSTOMER]
    assert (mark.loaded, mark.through) == (True, later)
    side.take("t1", ListRead(ListType.CUSTOMER, [cust("2", "Grace Hopper")]))
    assert told(side) == [("updated", "2", None)]


def test_each_read_marks_when_its_list_was_last_read_even_when_it_brought_nothing(side):
    load(side, cust("1", "Ada"))
    assert side.mirror.marks("t1")[ListType.CUSTOMER].read_at == side.clock.now()
    side.clock.advance(timedelta(minutes=70))
    side.take("t1", ListRead(ListType.CUSTOMER))
    mark = side.mirror.marks("t1")[ListType.CUSTOMER]
    assert (mark.loaded, mark.through, mark.read_at) == (True, T0, side.clock.now())


def test_an_object_created_for_a_host_record_is_not_told_back_as_created(side):
    load(side, cust("1", "Ada"))
    mine = SyncRecord("t1", "customer", "c-2", {}, SyncState.SYNCED, T0, quickbooks_id="2")
    side.records.save(mine, None, None)  # qbsync created QuickBooks customer 2 for record c-2
    taken = side.take("t1", ListRead(ListType.CUSTOMER, [cust("2", "Grace"), cust("3", "Alan")]))
    assert told(side) == [("created", "3", None)]
    assert taken.told == (("created", "3"),)
    side.take("t1", ListRead(ListType.CUSTOMER, [cust("2", "Grace Hopper")]))
    assert told(side)[-1] == ("updated", "2", "c-2")  # its later changes in QuickBooks are told
