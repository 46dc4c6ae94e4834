"""The sync engine's specification (tests/unit/engine_spec.py) on the scriptable QuickBooks of
tests/unit/books_fake.py: every guarantee as a scenario, with no network. Faults are the edition-neutral
`Fault`s an adapter hands the engine (each adapter's own test proves its translation:
tests/unit/test_qbo_faults.py for QuickBooks Online); the same scenarios run against QuickBooks Online's
adapter and sandbox in tests/adapters/test_sync_engine_qbo.py."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest

from qbsync.domain.sync import Fault, FaultAction, SyncState
from qbsync.metrics import EmfMetrics
from qbsync.usecases.sync_engine import DEFAULT_DELAY, RetryLaterError
from tests.unit.books_fake import FakeBooks
from tests.unit.engine_spec import (
    FAULT_AT_SITE,
    SCENARIOS,
    TENANT,
    WholeFault,
    World,
    every_fault_at_every_kind_of_operation_ends_the_run_cleanly_and_loses_nothing,
)
from tests.unit.fakes import FixedClock
from tests.unit.published_metrics import during_an_invocation


@pytest.fixture
def world() -> World:
    return World.on(FakeBooks(), FixedClock())


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_the_engine_keeps_its_guarantee(world: World, scenario: Callable[[World], None]) -> None:
    scenario(world)


@pytest.mark.parametrize(("site", "fault"), FAULT_AT_SITE, ids=[f"{s}-{f}" for s, f in FAULT_AT_SITE])
def test_every_fault_at_every_kind_of_operation_ends_the_run_cleanly_and_loses_nothing(
    world: World, site: str, fault: WholeFault
) -> None:
    every_fault_at_every_kind_of_operation_ends_the_run_cleanly_and_loses_nothing(world, site, fault)


def test_a_pause_whose_fault_names_no_time_waits_the_default_delay(world: World) -> None:
    assert isinstance(world.qb, FakeBooks)
    world.qb.faults["write"] = [Fault(FaultAction.RETRY_LATER, "busy", "QuickBooks is busy")]
    world.push("customer", "c-1", {"display_name": "Ada"})
    with pytest.raises(RetryLaterError) as raised:
        world.run()
    assert raised.value.delay == DEFAULT_DELAY == timedelta(seconds=30)
    assert world.get("customer", "c-1").state is SyncState.PENDING


def test_a_write_quickbooks_asks_to_retry_later_pauses_the_run_with_its_delay(world: World) -> None:
    """One operation answered "retry later" (QuickBooks' other operations of the batch went through): the
    run pauses for the delay QuickBooks named, instead of sending it again at once, round after round."""
    assert isinstance(world.qb, FakeBooks)
    busy = Fault(FaultAction.RETRY_LATER, "10000", "QuickBooks answered 500", "", timedelta(seconds=20))
    world.qb.item_faults["Ada"] = [busy]
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.push("customer", "c-2", {"display_name": "Grace"})
    with pytest.raises(RetryLaterError) as raised:
        world.run()
    assert raised.value.delay == timedelta(seconds=20)
    assert len(world.books.batches) == 1
    assert (world.get("customer", "c-1").state, world.get("customer", "c-2").state) == (
        SyncState.PENDING,
        SyncState.SYNCED,
    )
    world.sync()
    assert world.get("customer", "c-1").state is SyncState.SYNCED
    assert world.names("customer") == Counter({"Ada": 1, "Grace": 1})


def test_a_record_depending_on_an_ignored_one_waits_saying_the_settings_keep_it_out(world: World) -> None:
    """Whatever depends on a record the settings keep out of QuickBooks is not sent either: it waits, pending,
    and says why (no record type refers to a payment yet; the rule is the engine's, for any type)."""
    world.push("customer", "c-1", {"display_name": "Ada"})
    customer = world.get("customer", "c-1")
    ignored = customer.copy()
    ignored.move(SyncState.IGNORED, world.clock.now(), "kept out of QuickBooks by the setting ...")
    world.store.save(ignored, customer.revision, customer.state)
    world.push("item", "i-1", {"kind": "service", "name": "Labour"})
    world.push("invoice", "inv-1", {"customer_id": "c-1", "lines": [{"item_id": "i-1", "amount": "10"}]})
    world.sync()
    invoice = world.get("invoice", "inv-1")
    assert (invoice.state, invoice.waiting_for) == (SyncState.PENDING, ("customer/c-1",))
    assert invoice.history[-1].detail == (
        "waits for customer/c-1 (kept out of QuickBooks by the tenant's settings: see its history)"
    )
    assert world.names("customer") == Counter()
    assert world.names("invoice") == Counter()
    world.records.send(TENANT, [("customer", "c-1")])
    world.sync()
    assert world.get("invoice", "inv-1").state is SyncState.SYNCED


def test_a_run_counts_its_records_synced_and_failed_by_edition_and_code_and_times_itself(
    world: World,
) -> None:
    assert isinstance(world.qb, FakeBooks)
    world.engine.metrics = EmfMetrics()
    world.qb.item_faults["Ada"] = [Fault(FaultAction.FIX_RECORD, "6000", "QuickBooks refused it: a rule")]
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.push("customer", "c-2", {"display_name": "Grace"})
    world.push("customer", "c-3", {"display_name": "Lin"})

    published = during_an_invocation(world.run)
    assert published.total("RecordsSynced", edition="qbo") == 2
    assert published.total("RecordsFailed", edition="qbo", code="6000") == 1
    assert published.total("RecordsFailed") == 1  # the total the alarm watches
    assert published.values("SyncRunDuration", edition="qbo") == [0.0]  # one run; the fake clock stood still
    assert published.properties("tenant_id") == {TENANT}


def test_records_a_run_puts_off_are_counted_deferred_with_the_reason(world: World) -> None:
    assert isinstance(world.qb, FakeBooks)
    world.engine.metrics = EmfMetrics()
    busy = Fault(FaultAction.RETRY_LATER, "10000", "QuickBooks answered 500", "", timedelta(seconds=20))
    world.qb.item_faults["Ada"] = [busy]
    world.push("customer", "c-1", {"display_name": "Ada"})

    def paused_run() -> None:
        with pytest.raises(RetryLaterError):
            world.run()

    published = during_an_invocation(paused_run)
    assert published.total("RecordsDeferred", edition="qbo", reason="retry_later") == 1
    assert published.total("RecordsSynced") == 0
    assert len(published.values("SyncRunDuration", edition="qbo")) == 1  # a paused run took time too
