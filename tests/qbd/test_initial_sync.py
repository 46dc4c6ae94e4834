"""The initial sync on QuickBooks Desktop, through the simulated Web Connector: it waits for the session that
reads the company's lists and says so; that session sends nothing while the worker matches (what it links
must not be created meanwhile); the next session sends the rest, and the run reaches 100 % when it closes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from local.qbd.company import Company
from qbsync.domain.initial_sync import Step
from qbsync.domain.jobs import INITIAL_SYNC_JOB
from qbsync.domain.sync import SyncState
from qbsync.usecases.initial_sync import INITIAL_SYNC_DONE, InitialSyncs
from qbsync.usecases.links import Links
from tests.qbd.desktop_world import DesktopWorld
from tests.unit.fakes import InMemoryQueue
from tests.unit.initial_sync_fakes import InMemoryInitialSyncs
from tests.unit.sync_fakes import InMemoryPaymentLog, InMemoryTenantLease

SETTINGS: dict[str, Any] = {
    "default_income_account": "Sales",
    "sync_payments_from_quickbooks": False,
    "send_mode": "review",  # pushed records wait as drafts: the initial sync decides what goes
    "only_in_quickbooks": "create",
}


def company() -> Company:
    c = Company("Initial Co")
    c.add_entry("Customer", "Acme Corp", Email="ap@acme.test")
    c.add_entry("Customer", "Only In Desktop")
    c.add_entry("ItemService", "Consulting", SalesOrPurchase={"Price": "150.00", "AccountRef": "Sales"})
    return c


def with_initial_sync(w: DesktopWorld, queue: InMemoryQueue) -> InitialSyncs:
    assert w.mirror is not None
    links = Links(w.tenants, w.store, w.mirror, w.events, w.clock)
    syncs = InitialSyncs(
        w.tenants,
        InMemoryInitialSyncs(),
        w.store,
        w.mirror,
        links,
        w.settings,
        InMemoryPaymentLog(),
        InMemoryTenantLease(),
        queue,
        w.events,
        w.clock,
    )
    w.desktop.initial_sync = syncs
    return syncs


def test_a_desktop_initial_sync_links_sends_and_reaches_100_percent_in_the_web_connectors_sessions() -> None:
    c = company()
    w = DesktopWorld.create(company=c, lists=True, **SETTINGS)
    queue = InMemoryQueue()
    syncs = with_initial_sync(w, queue)
    w.push("customer", "c-acme", {"display_name": "ACME Corp.", "email": "AP@acme.test"})
    w.push("customer", "c-ada", {"display_name": "Ada Lovelace"})
    w.push("item", "i-consult", {"kind": "service", "name": "Consulting"})
    line = [{"item_id": "i-consult", "quantity": "2", "rate": "150"}]
    w.push("invoice", "inv-1", {"customer_id": "c-ada", "lines": line})

    started = syncs.start(w.tenant_id)
    assert started.sync.step is Step.READING
    assert "Web Connector" in started.note
    assert syncs.dry_run(w.tenant_id).lists_read is False

    w.run()  # reads the lists; the initial sync asks the worker to match, and nothing is sent meanwhile
    assert c.find("Customer", "Ada Lovelace") is None
    assert [j.kind for j, _ in queue.sent] == [INITIAL_SYNC_JOB]
    assert "Matching" in syncs.status(w.tenant_id).note
    syncs.advance(w.tenant_id, settle=False, match=True)  # the worker's job

    run = w.run()
    assert run.message == "qbsync: 2 sent, 2 synced, 0 failed"  # Ada and her invoice; the rest linked

    status = syncs.status(w.tenant_id)
    assert status.sync.step is Step.DONE
    assert {t: p.percent for t, p in status.progress.items()} == dict.fromkeys(status.progress, 100)
    assert status.sync.summary is not None
    assert status.sync.summary["customer"].matched == 1
    assert status.sync.summary["customer"].to_create_in_app == 1
    acme = w.get("customer", "c-acme")
    assert (acme.state, acme.quickbooks_id) == (SyncState.SYNCED, c.find("Customer", "Acme Corp").id)  # type: ignore[union-attr]
    assert w.get("item", "i-consult").quickbooks_id == c.find("ItemService", "Consulting").id  # type: ignore[union-attr]
    assert c.find("Customer", "Ada Lovelace") is not None
    assert c.find("Customer", "ACME Corp.") is None  # linked, never created twice
    told = [d["name"] for d in w.events.of("quickbooks.changed") if d.get("initial_sync")]
    assert told == ["Only In Desktop"]
    assert len(w.events.of(INITIAL_SYNC_DONE)) == 1


def test_a_since_date_run_on_desktop_leaves_a_customer_created_earlier_in_quickbooks_untold() -> None:
    c = Company("Dated Co", clock=lambda: datetime(2019, 1, 15, 18, 30, tzinfo=UTC))
    c.add_entry("Customer", "Old Desktop Customer")
    w = DesktopWorld.create(company=c, lists=True, **SETTINGS, sync_since="2026-06-01")
    c.clock = w.clock.now
    c.add_entry("Customer", "New Desktop Customer")
    syncs = with_initial_sync(w, InMemoryQueue())
    syncs.start(w.tenant_id)

    w.run()  # reads the lists
    syncs.advance(w.tenant_id, settle=False, match=True)  # the worker's job

    status = syncs.status(w.tenant_id)
    assert status.sync.step is Step.DONE
    assert status.sync.summary is not None
    customers = status.sync.summary["customer"]
    assert (customers.to_create_in_app, customers.ignored_by_reason) == (1, {"before_since": 1})
    told = [d["name"] for d in w.events.of("quickbooks.changed") if d.get("initial_sync")]
    assert told == ["New Desktop Customer"]
