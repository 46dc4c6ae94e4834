"""Automatch as a service (usecases/matches.py): a run per record type keeps its results, links what it may
auto-accept, and leaves proposals and ambiguous picks to a person, who accepts or rejects them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from qbsync.domain.errors import ConflictError, InvalidInputError, NotFoundError
from qbsync.domain.jobs import MATCH_JOB
from qbsync.domain.match_results import Found, MatchRun, RunState
from qbsync.domain.mirror import ListEntry, ListType, ReadMark
from qbsync.domain.sync import SyncState
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.links import LinkRefusedError, Links
from qbsync.usecases.matches import RUN_STALE, ListNotReadError, Matches, Named
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
    queue: InMemoryQueue

    def quickbooks_has(self, list_type: ListType, quickbooks_id: str, name: str, **kw: Any) -> None:
        self.mirror.put_many(TENANT, [ListEntry(list_type, quickbooks_id, name, version="3", **kw)])

    def read(self, *list_types: ListType) -> None:
        for list_type in list_types:
            self.mirror.save_mark(TENANT, ReadMark(list_type, loaded=True, through=T0))

    def push(self, record_type: str, record_id: str, data: dict[str, Any]) -> None:
        self.records.upsert(TENANT, record_type, record_id, data)

    def match(self, record_types: list[str], tenant_id: str = TENANT) -> MatchRun:
        """Ask for a match and do it as the worker would, to its end: the run as it ends."""
        asked = self.matches.request(tenant_id, record_types)
        assert not self.matches.perform(tenant_id, asked.run_id)
        run = self.matches.run(tenant_id)
        assert run is not None
        return run

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
    queue = InMemoryQueue()
    records = Records(tenants, store, settings, queue, InMemoryTenantLease(), clock, links=links)
    results = InMemoryMatchStore()
    matches = Matches(tenants, store, mirror, results, links, settings, queue, clock)
    return World(matches, records, store, mirror, results, tenants, queue)


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
    summary = world.match(["customer"])
    counts = summary.summary["customer"]
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
    world.match(["customer"])
    page = world.matches.results(TENANT, record_type="customer", found=Found.AMBIGUOUS, limit=10, cursor=None)
    [acme] = page.items
    assert acme.result.name == "Acme Plumbing"
    assert [(c.quickbooks_id, c.name, c.same_name_as) for c in acme.candidates] == [
        ("60", "Acme Plumbing", ("61",)),
        ("61", "ACME Plumbing, Inc.", ("60",)),
    ]
    assert world.matches.duplicate_names(TENANT, "customer") == [
        Named("60", "Acme Plumbing", True, ("61",)),
        Named("61", "ACME Plumbing, Inc.", True, ("60",)),
    ]
    first = world.matches.results(TENANT, record_type=None, found=None, limit=4, cursor=None)
    rest = world.matches.results(TENANT, record_type=None, found=None, limit=4, cursor=first.next_cursor)
    assert len(first.items) + len(rest.items) == 6
    assert rest.next_cursor is None


def test_a_list_not_read_yet_is_refused_before_anything_is_matched(world: World) -> None:
    world.read(ListType.CUSTOMER)
    with pytest.raises(ListNotReadError) as raised:
        world.matches.request(TENANT, ["customer", "item"])
    assert "QuickBooks' items have not been read yet" in raised.value.detail
    assert world.found() == {}
    world.tenants.add(Tenant("desk", "Desk", Edition.QBD, T0))
    with pytest.raises(ListNotReadError, match="at the next Web Connector run"):
        world.matches.request("desk", ["vendor"])


def test_a_type_that_is_not_matched_is_invalid_input(world: World) -> None:
    with pytest.raises(InvalidInputError):
        world.matches.request(TENANT, ["invoice"])


def test_a_refused_auto_link_is_kept_on_its_result_with_the_reason(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Ada Lovelace", email="ada@example.com")
    world.read(ListType.CUSTOMER)
    world.push("customer", "c-ada", {"display_name": "Ada Lovelace", "email": "ada@example.com"})
    sending = world.get("customer", "c-ada")
    world.store.save(replace(sending, state=SyncState.SYNCING), sending.revision, sending.state)
    summary = world.match(["customer"])
    assert (summary.summary["customer"].auto_linked, summary.summary["customer"].refused) == (0, 1)
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
    summary = world.match(["vendor"])
    assert summary.summary["vendor"].skipped == 1
    assert world.found("vendor") == {"vendor.v-1": (Found.NOT_FOUND, None)}


def test_accepting_a_proposal_links_the_record_and_an_ambiguous_one_needs_a_candidate_picked(
    world: World,
) -> None:
    company(world)
    world.match(["customer"])
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
    world.match(["customer"])
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
    world.match(["customer"])
    rejected = world.matches.reject(TENANT, "customer.c-grace")
    assert rejected.result.rejected
    assert [c.name for c in rejected.candidates] == ["Grace Hopper Consulting"]
    with pytest.raises(ConflictError):
        world.matches.accept(TENANT, "customer.c-grace")
    with pytest.raises(ConflictError):  # linked: unlink it instead
        world.matches.reject(TENANT, "customer.c-ada")
    world.match(["customer"])
    assert world.found("customer")["customer.c-grace"] == (Found.MISSING_KEY, None)  # it has no email


def test_an_unknown_match_id_is_not_found(world: World) -> None:
    company(world)
    world.match(["customer"])
    for match_id in ("customer.nope", "invoice.c-ada", "c-ada", "customer."):
        with pytest.raises(NotFoundError):
            world.matches.accept(TENANT, match_id)
    with pytest.raises(NotFoundError):
        world.matches.reject("other-tenant", "customer.c-grace")


def test_a_match_is_asked_for_at_once_and_done_by_the_worker_one_at_a_time(world: World) -> None:
    company(world)
    asked = world.matches.request(TENANT, ["customer"])
    assert (asked.state, asked.record_types, dict(asked.summary)) == (RunState.QUEUED, ("customer",), {})
    [job] = [j for j, _ in world.queue.sent if j.kind == MATCH_JOB]
    assert (job.tenant_id, job.payload) == (TENANT, {"run_id": asked.run_id})
    assert world.found() == {}  # nothing matched until the worker does it
    with pytest.raises(ConflictError, match="is queued"):
        world.matches.request(TENANT, ["customer"])

    assert not world.matches.perform(TENANT, asked.run_id)
    done = world.matches.run(TENANT)
    assert done is not None
    now = world.matches.clock.now()
    assert (done.state, done.finished_at, done.summary["customer"].auto_linked) == (RunState.DONE, now, 1)
    assert not world.matches.perform(TENANT, asked.run_id)  # the same job again: nothing to do
    assert world.matches.request(TENANT, ["customer"]).run_id != asked.run_id


def test_linking_goes_in_slices_and_the_run_is_done_once_every_accepted_match_is_linked(world: World) -> None:
    company(world)
    asked = world.matches.request(TENANT, ["customer"])
    assert world.matches.perform(
        TENANT, asked.run_id, until=world.matches.clock.now()
    )  # time is up before the first link
    linking = world.matches.run(TENANT)
    assert linking is not None
    assert linking.state is RunState.LINKING
    assert linking.version == 4  # asked, matching, linking, and the slice's end: it moved on
    assert linking.summary["customer"].found["matched"] == 2
    assert world.found("customer")["customer.c-ada"] == (Found.MATCHED, None)
    assert not world.matches.perform(TENANT, asked.run_id)
    assert world.found("customer")["customer.c-ada"] == (Found.MATCHED, "58")
    done = world.matches.run(TENANT)
    assert done is not None
    assert (done.state, done.summary["customer"].auto_linked) == (RunState.DONE, 1)


def test_a_failed_or_abandoned_run_lets_another_be_asked_for(world: World) -> None:
    company(world)
    first = world.matches.request(TENANT, ["customer"])
    world.matches.fail(TENANT, first.run_id, "RuntimeError: boom")
    failed = world.matches.run(TENANT)
    assert failed is not None
    assert (failed.state, failed.error) == (RunState.FAILED, "RuntimeError: boom")
    assert not world.matches.perform(TENANT, first.run_id)  # a late job of the failed run does nothing
    assert world.found() == {}

    second = world.matches.request(TENANT, ["customer"])
    world.matches.clock.advance(RUN_STALE - timedelta(seconds=1))  # type: ignore[attr-defined]
    with pytest.raises(ConflictError):
        world.matches.request(TENANT, ["customer"])
    world.matches.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    third = world.matches.request(TENANT, ["customer"])  # its job was lost: taken over
    assert not world.matches.perform(TENANT, second.run_id)
    assert not world.matches.perform(TENANT, third.run_id)
    done = world.matches.run(TENANT)
    assert done is not None
    assert (done.run_id, done.state) == (third.run_id, RunState.DONE)
