"""Automatch as a service (usecases/matches.py): a run per record type keeps its results, links what it may
auto-accept, and leaves proposals and ambiguous picks to a person, who accepts or rejects them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from qbsync.domain.errors import ConflictError, InvalidInputError, NotFoundError
from qbsync.domain.match_results import Found
from qbsync.domain.matching import DuplicateName
from qbsync.domain.mirror import ListEntry, ListType, ReadMark
from qbsync.domain.sync import SyncState
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.links import LinkRefusedError, Links
from qbsync.usecases.matches import ListNotReadError, Matches
from qbsync.usecases.records import Records
from tests.unit.connection_fakes import RecordingEvents
from tests.unit.fakes import FixedClock, InMemoryQueue, InMemorySettings, InMemoryTenants
from tests.unit.match_fakes import InMemoryMatchStore
from tests.unit.mirror_fakes import InMemoryMirror
from tests.unit.sync_fakes import InMemoryRecordStore, InMemoryTenantLease

TENANT = "acme"
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@dataclass
class World:
    matches: Matches
    records: Records
    store: InMemoryRecordStore
    mirror: InMemoryMirror
    results: InMemoryMatchStore
    tenants: InMemoryTenants

    def quickbooks_has(self, list_type: ListType, quickbooks_id: str, name: str, **kw: Any) -> None:
        self.mirror.put_many(TENANT, [ListEntry(list_type, quickbooks_id, name, version="3", **kw)])

    def read(self, *list_types: ListType) -> None:
        for list_type in list_types:
            self.mirror.save_mark(TENANT, ReadMark(list_type, loaded=True, through=T0))

    def push(self, record_type: str, record_id: str, data: dict[str, Any]) -> None:
        self.records.upsert(TENANT, record_type, record_id, data)

    def get(self, record_type: str, record_id: str) -> Any:
        record = self.store.get(TENANT, record_type, record_id)
        assert record is not None
        return record

    def found(self, record_type: str | None = None) -> dict[str, tuple[Found, str | None]]:
        page = self.matches.results(TENANT, record_type=record_type, found=None, limit=500, cursor=None)
        return {s.result.match_id: (s.result.found, s.result.linked_to) for s in page.items}


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
    results = InMemoryMatchStore()
    matches = Matches(tenants, store, mirror, results, links, settings, clock)
    return World(matches, records, store, mirror, results, tenants)


def company(world: World) -> None:
    """QuickBooks has Ada (by email), Grace Hopper, Acme Plumbing twice; the host has its own spellings."""
    world.quickbooks_has(ListType.CUSTOMER, "58", "Ada Lovelace Ltd", email="ada@example.com")
    world.quickbooks_has(ListType.CUSTOMER, "59", "Grace Hopper Consulting")
    world.quickbooks_has(ListType.CUSTOMER, "60", "Acme Plumbing")
    world.quickbooks_has(ListType.CUSTOMER, "61", "ACME Plumbing, Inc.")
    world.quickbooks_has(ListType.CUSTOMER, "62", "Linked Elsewhere")
    world.read(ListType.CUSTOMER)
    world.push("customer", "c-ada", {"display_name": "Ada L.", "email": "ADA@example.com"})
    world.push("customer", "c-grace", {"display_name": "Grase Hoper Consulting"})  # a typo: a proposal
    world.push("customer", "c-acme", {"display_name": "Acme Plumbing"})
    world.push("customer", "c-new", {"display_name": "Someone New", "email": "new@example.com"})
    world.push("customer", "c-nomail", {"display_name": "Nobody Known"})
    world.push("customer", "c-had", {"display_name": "Linked Elsewhere"})
    world.matches.links.link(TENANT, "customer", "c-had", "62")


def test_a_run_links_what_it_may_auto_accept_and_keeps_every_result_with_its_counts(world: World) -> None:
    company(world)
    summary = world.matches.run(TENANT, ["customer"])
    counts = summary.by_type["customer"]
    assert dict(counts.found) == {
        "linked": 1, "matched": 2, "ambiguous": 1, "not_found": 1, "missing_key": 1,
    }  # fmt: skip
    assert (counts.auto_linked, counts.refused, counts.skipped, counts.duplicate_names) == (1, 0, 0, 2)
    assert world.found("customer") == {
        "customer.c-acme": (Found.AMBIGUOUS, None),
        "customer.c-ada": (Found.MATCHED, "58"),
        "customer.c-grace": (Found.MATCHED, None),
        "customer.c-had": (Found.LINKED, "62"),
        "customer.c-new": (Found.NOT_FOUND, None),
        "customer.c-nomail": (Found.MISSING_KEY, None),
    }
    ada = world.get("customer", "c-ada")
    assert (ada.state, ada.quickbooks_id) == (SyncState.SYNCED, "58")


def test_results_carry_the_host_name_and_their_candidates_names_and_duplicate_names(world: World) -> None:
    company(world)
    world.matches.run(TENANT, ["customer"])
    page = world.matches.results(TENANT, record_type="customer", found=Found.AMBIGUOUS, limit=10, cursor=None)
    [acme] = page.items
    assert acme.result.name == "Acme Plumbing"
    assert [(c.quickbooks_id, c.name, c.same_name_as) for c in acme.candidates] == [
        ("60", "Acme Plumbing", ("61",)),
        ("61", "ACME Plumbing, Inc.", ("60",)),
    ]
    assert world.matches.duplicate_names(TENANT, "customer") == [
        DuplicateName("60", ("61",)),
        DuplicateName("61", ("60",)),
    ]
    first = world.matches.results(TENANT, record_type=None, found=None, limit=4, cursor=None)
    rest = world.matches.results(TENANT, record_type=None, found=None, limit=4, cursor=first.next_cursor)
    assert len(first.items) + len(rest.items) == 6
    assert rest.next_cursor is None


def test_a_list_not_read_yet_is_refused_before_anything_is_matched(world: World) -> None:
    world.read(ListType.CUSTOMER)
    with pytest.raises(ListNotReadError) as raised:
        world.matches.run(TENANT, ["customer", "item"])
    assert "QuickBooks' items have not been read yet" in raised.value.detail
    assert world.found() == {}
    world.tenants.add(Tenant("desk", "Desk", Edition.QBD, T0))
    with pytest.raises(ListNotReadError, match="at the next Web Connector run"):
        world.matches.run("desk", ["vendor"])


def test_a_type_that_is_not_matched_is_invalid_input(world: World) -> None:
    with pytest.raises(InvalidInputError):
        world.matches.run(TENANT, ["invoice"])


def test_a_refused_auto_link_is_kept_on_its_result_with_the_reason(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Ada Lovelace", email="ada@example.com")
    world.read(ListType.CUSTOMER)
    world.push("customer", "c-ada", {"display_name": "Ada Lovelace", "email": "ada@example.com"})
    sending = world.get("customer", "c-ada")
    world.store.save(replace(sending, state=SyncState.SYNCING), sending.revision, sending.state)
    summary = world.matches.run(TENANT, ["customer"])
    assert (summary.by_type["customer"].auto_linked, summary.by_type["customer"].refused) == (0, 1)
    result = world.results.get(TENANT, "customer", "c-ada")
    assert result is not None
    assert result.refusal is not None
    assert result.refusal.code == "being_sent"
    assert result.linked_to is None


def test_voided_records_are_left_out_and_records_that_no_longer_parse_are_skipped_and_counted(
    world: World,
) -> None:
    world.read(ListType.VENDOR)
    world.push("vendor", "v-1", {"display_name": "Steel Supply"})
    world.push("vendor", "v-2", {"display_name": "Paper Goods"})
    world.push("vendor", "v-3", {"display_name": "Old One"})
    broken = world.get("vendor", "v-2")
    world.store.save(replace(broken, data={"display_name": ""}), broken.revision, broken.state)
    world.records.delete(TENANT, "vendor", "v-3")
    summary = world.matches.run(TENANT, ["vendor"])
    assert summary.by_type["vendor"].skipped == 1
    assert world.found("vendor") == {"vendor.v-1": (Found.NOT_FOUND, None)}


def test_accepting_a_proposal_links_the_record_and_an_ambiguous_one_needs_a_candidate_picked(
    world: World,
) -> None:
    company(world)
    world.matches.run(TENANT, ["customer"])
    accepted = world.matches.accept(TENANT, "customer.c-grace").result
    assert accepted.linked_to == "59"
    assert world.get("customer", "c-grace").quickbooks_id == "59"
    with pytest.raises(InvalidInputError) as no_pick:
        world.matches.accept(TENANT, "customer.c-acme")
    assert no_pick.value.problems[0].code == "pick_required"
    with pytest.raises(InvalidInputError) as wrong_pick:
        world.matches.accept(TENANT, "customer.c-acme", "58")
    assert wrong_pick.value.problems[0].code == "not_a_candidate"
    assert world.matches.accept(TENANT, "customer.c-acme", "61").result.linked_to == "61"
    assert world.get("customer", "c-acme").quickbooks_id == "61"
    assert (
        world.matches.accept(TENANT, "customer.c-acme", "61").result.linked_to == "61"
    )  # again: nothing changes


def test_accepting_what_has_no_proposal_or_what_links_refuse_is_a_conflict(world: World) -> None:
    company(world)
    world.matches.run(TENANT, ["customer"])
    with pytest.raises(ConflictError):
        world.matches.accept(TENANT, "customer.c-new")
    world.quickbooks_has(ListType.CUSTOMER, "59", "Grace Hopper Consulting", active=False)
    with pytest.raises(LinkRefusedError):
        world.matches.accept(TENANT, "customer.c-grace")
    result = world.results.get(TENANT, "customer", "c-grace")
    assert result is not None
    assert result.refusal is not None
    assert result.refusal.code == "inactive"


def test_a_rejected_proposal_is_not_proposed_again_by_a_later_run(world: World) -> None:
    company(world)
    world.matches.run(TENANT, ["customer"])
    rejected = world.matches.reject(TENANT, "customer.c-grace")
    assert rejected.result.rejected
    assert [c.name for c in rejected.candidates] == ["Grace Hopper Consulting"]
    with pytest.raises(ConflictError):
        world.matches.accept(TENANT, "customer.c-grace")
    with pytest.raises(ConflictError):  # linked: unlink it instead
        world.matches.reject(TENANT, "customer.c-ada")
    world.matches.run(TENANT, ["customer"])
    assert world.found("customer")["customer.c-grace"] == (Found.MISSING_KEY, None)  # it has no email


def test_an_unknown_match_id_is_not_found(world: World) -> None:
    company(world)
    world.matches.run(TENANT, ["customer"])
    for match_id in ("customer.nope", "invoice.c-ada", "c-ada", "customer."):
        with pytest.raises(NotFoundError):
            world.matches.accept(TENANT, match_id)
    with pytest.raises(NotFoundError):
        world.matches.reject("other-tenant", "customer.c-grace")
