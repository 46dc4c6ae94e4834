"""Linking host records to objects QuickBooks already has: the link route's use case, unlinking, clearing,
and a push that links on arrival; every refusal says why."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from qbsync.domain.errors import NotFoundError
from qbsync.domain.mirror import ListEntry, ListType, ReadMark
from qbsync.domain.settings import SendMode, SettingsVersion, SyncSettings
from qbsync.domain.sync import Failure, SyncState
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.links import (
    RECORD_LINKED,
    RECORD_UNLINKED,
    ConfirmationRequiredError,
    LinkRefusedError,
    Links,
    NotLinkableError,
)
from qbsync.usecases.records import RecordProblemsError, Records
from tests.unit.connection_fakes import RecordingEvents
from tests.unit.fakes import FixedClock, InMemoryQueue, InMemorySettings, InMemoryTenants
from tests.unit.mirror_fakes import InMemoryMirror
from tests.unit.sync_fakes import InMemoryRecordStore, InMemoryTenantLease

TENANT = "acme"
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@dataclass
class World:
    links: Links
    records: Records
    store: InMemoryRecordStore
    mirror: InMemoryMirror
    events: RecordingEvents
    settings: InMemorySettings
    clock: FixedClock

    def quickbooks_has(self, list_type: ListType, quickbooks_id: str, name: str, **kw: Any) -> ListEntry:
        """An object of the company's lists, as a read of that list leaves it in the mirror."""
        entry = ListEntry(list_type, quickbooks_id, name, modified_at=T0, version="3", **kw)
        self.mirror.put_many(TENANT, [entry])
        self.mirror.save_mark(TENANT, ReadMark(list_type, loaded=True, through=T0))
        return entry

    def push(self, record_type: str, record_id: str, data: dict[str, Any]) -> None:
        self.records.upsert(TENANT, record_type, record_id, data)

    def get(self, record_type: str, record_id: str) -> Any:
        record = self.store.get(TENANT, record_type, record_id)
        assert record is not None
        return record

    def told(self, kind: str) -> list[dict[str, object]]:
        return [d for t, _, d in self.events.published if t == kind]

    def use(self, **changes: Any) -> None:
        latest = self.settings.latest(TENANT)
        version = latest.version + 1 if latest else 1
        self.settings.add(SettingsVersion(TENANT, version, self.clock.now(), SyncSettings(**changes)))


@pytest.fixture
def world() -> World:
    clock = FixedClock()
    tenants = InMemoryTenants()
    tenants.add(Tenant(TENANT, "Acme", Edition.QBO, clock.now()))
    store, mirror, events, settings = (
        InMemoryRecordStore(),
        InMemoryMirror(),
        RecordingEvents(),
        InMemorySettings(),
    )
    links = Links(tenants, store, mirror, events, clock)
    records = Records(tenants, store, settings, InMemoryQueue(), InMemoryTenantLease(), clock, links=links)
    return World(links, records, store, mirror, events, settings, clock)


def refusal(raised: pytest.ExceptionInfo[LinkRefusedError]) -> tuple[str, str]:
    [problem] = raised.value.problems
    assert problem.field == "quickbooks_id"
    assert problem.message == raised.value.detail
    return problem.code, raised.value.detail


# ------------------------------------------------------------------------------------------------ linking


def test_a_linked_record_is_that_quickbooks_object_synced_at_its_revision_and_told(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd")
    world.push("customer", "c-1", {"display_name": "Acme Ltd", "email": "ap@acme.test"})
    linked = world.links.link(TENANT, "customer", "c-1", "58")
    assert (linked.state, linked.quickbooks_id, linked.quickbooks_version) == (SyncState.SYNCED, "58", "3")
    assert (linked.revision, linked.synced_revision, linked.quickbooks_name) == (1, 1, None)
    assert linked.history[-1].detail == "linked to QuickBooks customer 58 (Acme Ltd)"
    assert world.get("customer", "c-1").state is SyncState.SYNCED
    [told] = world.told(RECORD_LINKED)
    assert (told["record_id"], told["quickbooks_id"], told["state"]) == ("c-1", "58", "synced")


def test_a_linked_record_changed_later_waits_to_update_that_object(world: World) -> None:
    world.quickbooks_has(ListType.ITEM, "7", "Valve", sku="V-1")
    world.push("item", "i-1", {"kind": "service", "name": "Valve"})
    world.links.link(TENANT, "item", "i-1", "7")
    world.push("item", "i-1", {"kind": "service", "name": "Valve", "sales_price": "12.50"})
    changed = world.get("item", "i-1")
    assert (changed.state, changed.quickbooks_id, changed.revision, changed.synced_revision) == (
        SyncState.PENDING,
        "7",
        2,
        1,
    )


def test_linking_a_record_to_the_object_it_has_already_changes_nothing(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd")
    world.push("customer", "c-1", {"display_name": "Acme Ltd"})
    first = world.links.link(TENANT, "customer", "c-1", "58")
    again = world.links.link(TENANT, "customer", "c-1", "58")
    assert again == first
    assert len(world.told(RECORD_LINKED)) == 1


def test_a_failed_record_linked_to_its_candidate_is_synced_and_its_failure_cleared(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd")
    world.push("customer", "c-1", {"display_name": "Acme Ltd"})
    failed = world.get("customer", "c-1").copy()
    failed.fail(Failure("6240", "QuickBooks already uses the name", ("rename", "link_existing")), T0)
    world.store.save(failed, failed.revision, SyncState.PENDING)
    linked = world.links.link(TENANT, "customer", "c-1", "58")
    assert (linked.state, linked.failure) == (SyncState.SYNCED, None)


def test_a_linked_customer_holds_the_name_quickbooks_has_and_gives_up_its_own(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "ACME Limited")
    world.push("customer", "c-1", {"display_name": "Acme"})
    linked = world.links.link(TENANT, "customer", "c-1", "58")
    assert linked.quickbooks_name == "ACME Limited"  # its changes keep the name QuickBooks has
    with pytest.raises(RecordProblemsError) as clash:
        world.push("vendor", "v-1", {"display_name": "acme limited"})
    assert [p.code for p in clash.value.problems] == ["name_clash"]
    world.push("vendor", "v-2", {"display_name": "Acme"})  # its own name is free again
    assert world.get("vendor", "v-2").state is SyncState.PENDING


def test_a_job_linked_by_its_full_name_keeps_its_own_name(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "60", "Acme Ltd:Roof repair", parent_id="58")
    world.push("customer", "c-9", {"display_name": "Roof"})
    assert world.links.link(TENANT, "customer", "c-9", "60").quickbooks_name == "Roof repair"


# ------------------------------------------------------------------------------------------------ refusals


def test_an_id_quickbooks_does_not_have_in_that_list_is_refused_saying_so(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd")
    world.push("customer", "c-1", {"display_name": "Ada"})
    with pytest.raises(LinkRefusedError) as raised:
        world.links.link(TENANT, "customer", "c-1", "404")
    code, detail = refusal(raised)
    assert code == "not_in_quickbooks"
    assert "QuickBooks has no customer 404" in detail
    assert world.get("customer", "c-1").quickbooks_id is None


def test_an_object_of_another_kind_is_refused_naming_what_it_is(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd")
    world.quickbooks_has(ListType.VENDOR, "90", "Parts Co")
    world.push("customer", "c-1", {"display_name": "Ada"})
    with pytest.raises(LinkRefusedError) as raised:
        world.links.link(TENANT, "customer", "c-1", "90")
    code, detail = refusal(raised)
    assert code == "other_kind"
    assert "QuickBooks vendor 90 (Parts Co)" in detail


def test_a_list_never_read_is_refused_saying_it_was_not_read_yet(world: World) -> None:
    world.quickbooks_has(ListType.VENDOR, "90", "Parts Co")  # the vendors were read; the customers not
    world.push("customer", "c-1", {"display_name": "Ada"})
    with pytest.raises(LinkRefusedError) as raised:
        world.links.link(TENANT, "customer", "c-1", "58")
    code, detail = refusal(raised)
    assert code == "list_not_read"
    assert "has not read the company's customer list" in detail


def test_an_inactive_object_is_refused(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd", active=False)
    world.push("customer", "c-1", {"display_name": "Acme Ltd"})
    with pytest.raises(LinkRefusedError) as raised:
        world.links.link(TENANT, "customer", "c-1", "58")
    code, detail = refusal(raised)
    assert code == "inactive"
    assert "is inactive" in detail
    assert raised.value.problems[0].actions == ("make_active_in_quickbooks",)


def test_an_object_linked_to_another_record_is_refused_naming_that_record(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd")
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.push("customer", "c-2", {"display_name": "Grace"})
    world.links.link(TENANT, "customer", "c-1", "58")
    with pytest.raises(LinkRefusedError) as raised:
        world.links.link(TENANT, "customer", "c-2", "58")
    code, detail = refusal(raised)
    assert code == "linked_elsewhere"
    assert "already linked to customer 'c-1'" in detail


def test_a_record_with_a_quickbooks_object_of_its_own_is_refused_until_it_is_unlinked(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd")
    world.quickbooks_has(ListType.CUSTOMER, "59", "Acme Two")
    world.push("customer", "c-1", {"display_name": "Ada"})
    created = world.get("customer", "c-1").copy()  # as a sync leaves a record qbsync created
    created.quickbooks_id, created.synced_revision = "12", 1
    created.move(SyncState.SYNCED, T0, "accepted by QuickBooks")
    world.store.save(created, 1, SyncState.PENDING)
    with pytest.raises(LinkRefusedError) as raised:
        world.links.link(TENANT, "customer", "c-1", "58")
    code, detail = refusal(raised)
    assert code == "has_its_own"
    assert "unlink it first" in detail
    world.links.unlink(TENANT, "customer", "c-1")
    assert world.links.link(TENANT, "customer", "c-1", "59").quickbooks_id == "59"


def test_a_record_being_sent_is_refused_as_a_send_in_flight(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd")
    world.push("customer", "c-1", {"display_name": "Acme Ltd"})
    sending = world.get("customer", "c-1").copy()
    sending.attempts = 1
    sending.move(SyncState.SYNCING, T0, "sent to QuickBooks")
    world.store.save(sending, 1, SyncState.PENDING)
    with pytest.raises(LinkRefusedError) as raised:
        world.links.link(TENANT, "customer", "c-1", "58")
    assert refusal(raised)[0] == "being_sent"


def test_a_record_sent_without_a_known_outcome_is_refused_until_it_is_looked_up(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd")
    world.push("customer", "c-1", {"display_name": "Acme Ltd"})
    unknown = world.get("customer", "c-1").copy()
    unknown.attempts = 1  # QuickBooks may have created it: linking it elsewhere would leave a duplicate
    unknown.move(SyncState.PENDING, T0, "looked up before it is sent again")
    world.store.save(unknown, 1, SyncState.PENDING)
    with pytest.raises(LinkRefusedError) as raised:
        world.links.link(TENANT, "customer", "c-1", "58")
    assert refusal(raised)[0] == "outcome_unknown"


def test_the_name_quickbooks_has_held_by_another_record_is_refused(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd")
    world.push("vendor", "v-1", {"display_name": "Acme Ltd"})
    world.push("customer", "c-1", {"display_name": "Acme"})
    with pytest.raises(LinkRefusedError) as raised:
        world.links.link(TENANT, "customer", "c-1", "58")
    code, detail = refusal(raised)
    assert code == "name_taken"
    assert "vendor 'v-1'" in detail
    assert world.get("customer", "c-1").quickbooks_id is None


def test_a_missing_record_is_not_found_and_a_document_is_not_linkable(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd")
    with pytest.raises(NotFoundError):
        world.links.link(TENANT, "customer", "nope", "58")
    with pytest.raises(NotLinkableError, match="only customer, employee, item, vendor are"):
        world.links.link(TENANT, "invoice", "inv-1", "58")
    with pytest.raises(NotFoundError):
        world.links.link("ghost", "customer", "c-1", "58")


# ------------------------------------------------------------------------------------------------ unlinking


def test_an_unlinked_record_forgets_its_object_waits_as_a_draft_under_a_new_generation(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "ACME Limited")
    world.push("customer", "c-1", {"display_name": "Acme"})
    world.links.link(TENANT, "customer", "c-1", "58")
    unlinked = world.links.unlink(TENANT, "customer", "c-1")
    assert (unlinked.state, unlinked.quickbooks_id, unlinked.quickbooks_version) == (
        SyncState.DRAFT,
        None,
        None,
    )
    assert (unlinked.quickbooks_name, unlinked.synced_revision, unlinked.generation) == (None, 0, 1)
    assert unlinked.history[-1].detail.startswith(
        "unlinked from QuickBooks customer 58 (ACME Limited), which stays in QuickBooks as it is"
    )
    [told] = world.told(RECORD_UNLINKED)
    assert (told["record_id"], told["unlinked_from"], told["state"]) == ("c-1", "58", "draft")
    assert world.store.find_by_quickbooks_id(TENANT, "customer", "58") is None
    world.push("vendor", "v-1", {"display_name": "ACME Limited"})  # the name QuickBooks has is free again
    with pytest.raises(RecordProblemsError):
        world.push("vendor", "v-2", {"display_name": "Acme"})  # and its own name is its own again


def test_unlinking_a_record_without_an_object_answers_it_as_it_is(world: World) -> None:
    world.push("customer", "c-1", {"display_name": "Ada"})
    before = world.get("customer", "c-1")
    assert world.links.unlink(TENANT, "customer", "c-1") == before
    assert world.told(RECORD_UNLINKED) == []


def test_an_unlinked_record_whose_own_name_was_taken_meanwhile_fails_with_the_clash(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "ACME Limited")
    world.push("customer", "c-1", {"display_name": "Acme"})
    world.links.link(TENANT, "customer", "c-1", "58")
    world.push("vendor", "v-1", {"display_name": "Acme"})
    unlinked = world.links.unlink(TENANT, "customer", "c-1")
    assert unlinked.state is SyncState.FAILED
    assert unlinked.failure is not None
    assert (unlinked.failure.code, unlinked.failure.actions) == ("name_clash", ("rename", "link_existing"))
    assert unlinked.quickbooks_id is None


def test_clearing_the_links_of_a_type_needs_its_confirmation_then_unlinks_them_all(world: World) -> None:
    for n in range(7):
        world.quickbooks_has(ListType.VENDOR, f"{n}", f"Vendor {n}")
        world.push("vendor", f"v-{n}", {"display_name": f"Vendor {n}"})
        world.links.link(TENANT, "vendor", f"v-{n}", f"{n}")
    world.push("vendor", "v-new", {"display_name": "Not linked"})
    busy = world.get("vendor", "v-6").copy()
    busy.move(SyncState.SYNCING, T0, "sent to QuickBooks")
    world.store.save(busy, busy.revision, SyncState.SYNCED)
    with pytest.raises(ConfirmationRequiredError) as unconfirmed:
        world.links.clear(TENANT, "vendor", confirm=False)
    assert "all 7 vendor records" in unconfirmed.value.detail
    assert "confirm=true" in unconfirmed.value.detail
    assert world.get("vendor", "v-0").quickbooks_id == "0"  # nothing done yet
    cleared = world.links.clear(TENANT, "vendor", confirm=True)
    assert (cleared.unlinked, cleared.left) == (6, {"being_sent": 1})
    assert {world.get("vendor", f"v-{n}").state for n in range(6)} == {SyncState.DRAFT}
    assert len(world.told(RECORD_UNLINKED)) == 6


def test_clearing_works_through_the_records_in_pages(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("qbsync.usecases.links.PAGE", 2)
    for n in range(5):
        world.quickbooks_has(ListType.EMPLOYEE, f"{n}", f"Employee {n}")
        world.push("employee", f"e-{n}", {"display_name": f"Employee {n}"})
        world.links.link(TENANT, "employee", f"e-{n}", f"{n}")
    assert world.links.clear(TENANT, "employee", confirm=True).unlinked == 5
    assert all(world.get("employee", f"e-{n}").quickbooks_id is None for n in range(5))


# ------------------------------------------------------------------------------------------------ pushes


def test_a_record_pushed_with_a_quickbooks_id_is_linked_on_arrival(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd")
    outcome = world.records.upsert(TENANT, "customer", "c-1", {"display_name": "Acme", "quickbooks_id": "58"})
    assert outcome.status == "created"
    record = world.get("customer", "c-1")
    assert (record.state, record.quickbooks_id, record.quickbooks_name) == (
        SyncState.SYNCED,
        "58",
        "Acme Ltd",
    )
    assert "quickbooks_id" not in record.data
    assert [d["record_id"] for d in world.told(RECORD_LINKED)] == ["c-1"]
    again = world.records.upsert(TENANT, "customer", "c-1", {"display_name": "Acme", "quickbooks_id": "58"})
    assert again.status == "unchanged"


def test_a_record_pushed_with_a_quickbooks_id_linked_elsewhere_is_refused_and_nothing_stored(
    world: World,
) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd")
    world.records.upsert(TENANT, "customer", "c-1", {"display_name": "Ada", "quickbooks_id": "58"})
    with pytest.raises(LinkRefusedError) as raised:
        world.records.upsert(TENANT, "customer", "c-2", {"display_name": "Grace", "quickbooks_id": "58"})
    assert refusal(raised)[0] == "linked_elsewhere"
    assert world.store.get(TENANT, "customer", "c-2") is None
    with pytest.raises(LinkRefusedError) as unknown:
        world.records.upsert(TENANT, "customer", "c-3", {"display_name": "Alan", "quickbooks_id": "404"})
    assert refusal(unknown)[0] == "not_in_quickbooks"
    assert world.store.get(TENANT, "customer", "c-3") is None


def test_an_existing_record_pushed_changed_with_a_quickbooks_id_is_linked_at_its_new_revision(
    world: World,
) -> None:
    world.use(send_mode=SendMode.REVIEW)
    world.quickbooks_has(ListType.ITEM, "7", "Valve", sku="V-1")
    world.push("item", "i-1", {"kind": "service", "name": "Valve"})
    world.push("item", "i-1", {"kind": "service", "name": "Valve", "sku": "V-1", "quickbooks_id": "7"})
    record = world.get("item", "i-1")
    assert (record.state, record.revision, record.synced_revision, record.quickbooks_id) == (
        SyncState.SYNCED,
        2,
        2,
        "7",
    )
    assert record.data["sku"] == "V-1"


def test_a_bulk_push_links_each_record_on_its_own_and_a_refused_one_stops_no_other(world: World) -> None:
    for n in range(3):
        world.quickbooks_has(ListType.ITEM, f"{n}", f"Item {n}")
    world.quickbooks_has(ListType.ITEM, "9", "Old", active=False)
    entries = [
        ("i-0", {"kind": "service", "name": "Item 0", "quickbooks_id": "0"}),
        ("i-1", {"kind": "service", "name": "Item 1", "quickbooks_id": "9"}),
        ("i-2", {"kind": "service", "name": "Item 2", "quickbooks_id": "0"}),
        ("i-3", {"kind": "service", "name": "Item 3", "quickbooks_id": "2"}),
        ("i-4", {"kind": "service", "name": "Item 4", "quickbooks_id": 5}),
    ]
    outcomes = world.records.upsert_many(TENANT, "item", entries)
    assert [(o.record_id, o.status) for o in outcomes] == [
        ("i-0", "created"),
        ("i-1", "refused"),
        ("i-2", "refused"),
        ("i-3", "created"),
        ("i-4", "invalid"),
    ]
    assert [p.code for o in outcomes for p in o.problems] == ["inactive", "linked_elsewhere", "invalid"]
    stored = {r.record_id: r.quickbooks_id for r in world.store.records.values()}
    assert stored == {"i-0": "0", "i-3": "2"}
    assert [d["record_id"] for d in world.told(RECORD_LINKED)] == ["i-0", "i-3"]


def test_a_quickbooks_id_that_is_not_one_is_a_problem_of_the_push(world: World) -> None:
    with pytest.raises(RecordProblemsError) as raised:
        world.records.upsert(TENANT, "customer", "c-1", {"display_name": "Ada", "quickbooks_id": "58; DROP"})
    assert [(p.field, p.code) for p in raised.value.problems] == [("quickbooks_id", "invalid")]


def test_a_record_stored_linked_reads_back_the_same(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd")
    world.push("customer", "c-1", {"display_name": "Acme"})
    linked = world.links.link(TENANT, "customer", "c-1", "58")
    assert replace(world.get("customer", "c-1"), history=[]) == replace(linked, history=[])


def test_a_document_pushed_with_a_quickbooks_id_is_refused_as_not_linkable(world: World) -> None:
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.push("item", "i-1", {"kind": "service", "name": "Work"})
    line = {"item_id": "i-1", "quantity": "1", "rate": "10"}
    invoice = {"customer_id": "c-1", "lines": [line], "quickbooks_id": "7"}
    with pytest.raises(NotLinkableError):
        world.records.upsert(TENANT, "invoice", "inv-1", invoice)
    assert world.store.get(TENANT, "invoice", "inv-1") is None
