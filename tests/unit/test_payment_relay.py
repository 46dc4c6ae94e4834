"""PaymentRelay's one ingest path for both editions: the window a read starts from, the ingest that tells what
was read and moves the cursor only after the last page, and a payment that names its own method (Desktop)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from qbsync.domain.payments import AppliedLine, ReceivedPayment
from qbsync.domain.settings import SettingsVersion, SyncSettings
from qbsync.usecases.payments import FIRST_PULL, OVERLAP, PaymentRelay
from tests.unit.connection_fakes import RecordingEvents
from tests.unit.fakes import FixedClock, InMemorySettings
from tests.unit.sync_fakes import InMemoryPaymentLog, InMemoryRecordStore

TENANT = "t-desk"


def relay_for(**settings: object) -> tuple[PaymentRelay, RecordingEvents]:
    """A Desktop relay: no Online PaymentSource, the tenant's settings as given."""
    clock = FixedClock()
    stored = InMemorySettings()
    stored.add(SettingsVersion(TENANT, 1, clock.now(), SyncSettings.model_validate(settings)))
    events = RecordingEvents()
    relay = PaymentRelay(None, InMemoryPaymentLog(), InMemoryRecordStore(), stored, events, clock)
    return relay, events


def paid(quickbooks_id: str, method_name: str | None = "Visa", version: str = "1") -> ReceivedPayment:
    return ReceivedPayment(
        quickbooks_id=quickbooks_id,
        quickbooks_version=version,
        customer_quickbooks_id="80000001-1",
        total_amount=Decimal("40.00"),
        unapplied_amount=Decimal("0.00"),
        txn_date=None,
        method_quickbooks_id="80000005-1" if method_name else None,
        reference_number=None,
        deposit_account_quickbooks_id=None,
        lines=(AppliedLine("Invoice", "1-1", Decimal("40.00")),),
        voided=False,
        last_updated=None,
        method_name=method_name,
    )


def test_a_payment_that_names_its_method_is_filtered_by_that_name_without_an_online_lookup() -> None:
    relay, events = relay_for()
    settings = SyncSettings(payment_methods_to_sync=["visa"])  # as the window of such a tenant gives them

    told = relay.ingest(
        TENANT,
        settings,
        [paid("1-1", "Visa"), paid("2-1", "Check"), paid("3-1", None)],
        [],
        relay.clock.now(),
    )

    assert told == 1
    [(kind, _, detail)] = events.published
    assert (kind, detail["quickbooks_payment_id"], detail["method"]) == ("payment.received", "1-1", "Visa")


def test_no_window_when_the_tenant_does_not_sync_payments_back() -> None:
    relay, _ = relay_for(sync_payments_from_quickbooks=False)

    assert relay.window(TENANT) is None


def test_the_window_starts_a_day_back_first_then_at_the_cursor_less_the_overlap_however_far_back() -> None:
    relay, _ = relay_for()
    now = relay.clock.now()
    first = relay.window(TENANT)
    assert first is not None
    assert first.since == now - FIRST_PULL - OVERLAP
    assert first.settings.sync_payments_from_quickbooks

    cursor = now - timedelta(days=40)  # a Web Connector silent for 40 days, an initial sync's since date
    relay.log.advance(TENANT, cursor)
    window = relay.window(TENANT)

    assert window is not None
    assert window.since == cursor - OVERLAP  # Online reads beyond Change Data Capture's reach by a query


def test_a_page_that_is_not_the_last_tells_but_leaves_the_cursor_and_the_last_moves_it() -> None:
    relay, events = relay_for()
    settings = SyncSettings()
    now = relay.clock.now()

    assert relay.ingest(TENANT, settings, [paid("1-1")], [], now, complete=False) == 1
    assert relay.log.pulled_until(TENANT) is None
    assert relay.ingest(TENANT, settings, [paid("1-1"), paid("2-1")], [], now) == 1  # 1-1 told once
    assert relay.log.pulled_until(TENANT) == now
    assert [d["quickbooks_payment_id"] for _, _, d in events.published] == ["1-1", "2-1"]


def test_ingest_tells_a_deletion_of_a_told_payment_once_and_never_moves_the_cursor_back() -> None:
    relay, events = relay_for()
    settings = SyncSettings()
    now = relay.clock.now()
    relay.ingest(TENANT, settings, [paid("1-1")], [], now)

    told = relay.ingest(TENANT, settings, [], ["1-1", "1-1", "9-9"], now - timedelta(hours=1))

    assert told == 1  # once, and nothing for a payment never told
    assert [kind for kind, _, _ in events.published] == ["payment.received", "payment.deleted"]
    assert relay.log.pulled_until(TENANT) == now
