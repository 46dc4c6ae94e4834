"""The worker's `qbo.entity_changed` job: the entities of one type a webhook delivery named, a list's read in
one go, payments one at a time, and a job cut short by the company's request budget queued again with the
changes it did not reach."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

from qbsync.adapters.qbo_faults import RequestBudgetExceededError
from qbsync.composition import Container
from qbsync.domain.jobs import ENTITY_CHANGED_JOB, Job, new_job
from qbsync.domain.mirror import ListType
from qbsync.worker import entity_changed
from tests.unit.fakes import FixedClock, InMemoryQueue

TENANT = "acme"


@dataclass
class Lists:
    reads: list[tuple[str, ListType, list[str]]] = field(default_factory=list)

    def on_change(self, tenant_id: str, list_type: ListType, quickbooks_ids: list[str]) -> Any:
        self.reads.append((tenant_id, list_type, list(quickbooks_ids)))
        return SimpleNamespace(told=[])


@dataclass
class Relay:
    budget: int  # changes it can read before the company's budget runs out
    handled: list[tuple[str, str]] = field(default_factory=list)

    def on_change(self, tenant_id: str, quickbooks_id: str, operation: str) -> str | None:
        if len(self.handled) == self.budget:
            raise RequestBudgetExceededError(42)
        self.handled.append((quickbooks_id, operation))
        return None


def container(relay: Relay | None = None) -> tuple[Container, Lists, InMemoryQueue]:
    lists, queue = Lists(), InMemoryQueue()
    c = SimpleNamespace(quickbooks_lists=lists, payment_relay=relay, jobs=queue, clock=FixedClock())
    return cast(Container, c), lists, queue


def change(entity_id: str, operation: str = "Create", **extra: str) -> dict[str, Any]:
    return {"entity_id": entity_id, "operation": operation, "event_id": f"e-{entity_id}", **extra}


def job(entity: str, *changes: dict[str, Any]) -> Job:
    return new_job(
        ENTITY_CHANGED_JOB,
        FixedClock().now(),
        tenant_id=TENANT,
        realm_id="1",
        entity=entity,
        changes=list(changes),
    )


def test_a_lists_changes_are_read_in_one_go_with_the_entities_merged_away() -> None:
    c, lists, queue = container()
    entity_changed(c, job("Customer", change("58"), change("59", "Merge", deleted_id="61"), change("60")))
    assert lists.reads == [(TENANT, ListType.CUSTOMER, ["58", "59", "61", "60"])]
    assert queue.sent == []


def test_a_job_queued_with_one_change_in_its_payload_is_still_read() -> None:
    c, lists, _ = container()
    old = new_job(
        ENTITY_CHANGED_JOB, FixedClock().now(), tenant_id=TENANT, realm_id="1", entity="Item", **change("7")
    )
    entity_changed(c, old)
    assert lists.reads == [(TENANT, ListType.ITEM, ["7"])]


def test_payments_cut_short_by_the_budget_go_back_on_the_queue_from_where_they_stopped() -> None:
    relay = Relay(budget=2)
    c, lists, queue = container(relay)
    entity_changed(c, job("Payment", change("1"), change("2", "Update"), change("3"), change("4", "Delete")))
    assert relay.handled == [("1", "Create"), ("2", "Update")]
    [(again, delay)] = queue.sent
    assert delay == 42
    assert (again.kind, again.tenant_id, again.payload["entity"]) == (ENTITY_CHANGED_JOB, TENANT, "Payment")
    assert again.payload["changes"] == [change("3"), change("4", "Delete")]
    assert lists.reads == []

    relay.budget = 4
    entity_changed(c, again)
    assert [quickbooks_id for quickbooks_id, _ in relay.handled] == ["1", "2", "3", "4"]
    assert len(queue.sent) == 1


def test_entities_qbsync_does_not_read_back_are_left_alone() -> None:
    relay = Relay(budget=0)
    c, lists, queue = container(relay)
    entity_changed(c, job("Invoice", change("1042")))
    assert (lists.reads, relay.handled, queue.sent) == ([], [], [])
