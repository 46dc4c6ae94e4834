"""Payments entered in QuickBooks Desktop come back to the host app: the codec's queries (adapters/qbxml/
payments.py) processed by the simulated company over real qbXML, its answers read by the codec and told
through PaymentRelay's window and ingest, the one path Online's pull takes too.

`read_back` does what a Web Connector session does for payments; storage is the in-memory fakes (contract-
tested against DynamoDB). The host app's own records are pushed first through the codec, as the engine does,
and kept in the record store with their QuickBooks ids, which is how the events name the host's invoices and
how the payments the host pushed itself are recognised. The company's clock stands in July: QuickBooks then
stamps Pacific daylight time with the standard offset (-08:00), and the reads must still find every change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from local.qbd.company import Company, CompanySession
from qbsync.adapters.qbxml import envelope
from qbsync.adapters.qbxml.payments import (
    MAX_RETURNED,
    deleted_payments,
    latest_modified,
    payment_queries,
    payment_query,
    received_payment,
)
from qbsync.adapters.qbxml.read import Message, read_message
from qbsync.domain.settings import SettingsVersion, SyncSettings
from qbsync.domain.sync import SyncState
from qbsync.usecases.payments import PaymentRelay
from tests.qbd.test_codec_against_company import TENANT, Books
from tests.unit.engine_spec import RecordedEvents
from tests.unit.fakes import FixedClock, InMemorySettings
from tests.unit.sync_fakes import InMemoryPaymentLog, InMemoryRecordStore

# The offset QuickBooks writes on this company's stamps, which a session keeps from the stamps it has read.
QUICKBOOKS_OFFSET = timedelta(hours=-8)
START = datetime(2026, 7, 1, 17, 0, tzinfo=UTC)  # 10:00 PDT


class Desktop:
    """A tenant's QuickBooks Desktop company and the relay that tells the host app of its payments."""

    def __init__(self, **settings: object) -> None:
        self.clock = FixedClock(START)
        self.company = Company("Payments Back Co", clock=self.clock.now)
        self.store = InMemoryRecordStore()
        self.events = RecordedEvents()
        stored = InMemorySettings()
        stored.add(SettingsVersion(TENANT, 1, START, SyncSettings.model_validate(settings)))
        self.relay = PaymentRelay(None, InMemoryPaymentLog(), self.store, stored, self.events, self.clock)
        self.books = Books(self.company.open_session())
        self.ids: dict[str, str] = {}

    def push(self, record_type: str, record_id: str, data: dict[str, object]) -> str:
        """The host app's record, synced through the codec and kept as the engine keeps it."""
        self.books.add(record_type, record_id, data)
        record = self.books.records[f"{record_type}/{record_id}"]
        self.store.save(replace(record, state=SyncState.SYNCED, synced_revision=1), None, None)
        self.ids[record_id] = str(record.quickbooks_id)
        return self.ids[record_id]

    def later(self, minutes: int = 10) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    def read_back(self, *, pages_before_dying: int | None = None) -> list[tuple[str, dict[str, object]]]:
        """One Web Connector session's payments: the first message asks for the payments changed and deleted
        since the window, each further one for the iterator's next page; each page is told, and the last
        moves the cursor to the latest stamp read. A session that dies leaves its iterator behind."""
        told = len(self.events.sent)
        window = self.relay.window(TENANT)
        assert window is not None
        session = self.company.open_session()
        first, deleted = payment_queries(
            window.since, utc_offset=QUICKBOOKS_OFFSET, payments_request_id="pay-1", deleted_request_id="gone"
        )
        answer = exchange(session, [first, deleted])
        page, gone = answer.response("pay-1"), answer.response("gone")
        assert page is not None
        assert gone is not None
        assert gone.status.code in (0, 1)  # 1: none deleted
        gone_ids, latest, pages = deleted_payments(gone), latest_modified([gone], window.since), 1
        while True:
            assert page.status.code in (0, 1), page.status
            latest = latest_modified([page], latest)
            last = not page.iterator_remaining_count
            payments = [received_payment(ret) for ret in page.rets]
            self.relay.ingest(TENANT, window.settings, payments, gone_ids, latest, complete=last)
            gone_ids = []
            if last or pages == pages_before_dying:
                break
            pages += 1
            request_id = f"pay-{pages}"
            more = payment_query(
                request_id, window.since, utc_offset=QUICKBOOKS_OFFSET, iterator_id=page.iterator_id
            )
            page = exchange(session, [more]).response(request_id)
            assert page is not None
        session.close()
        return [(kind, detail) for kind, _, detail in self.events.sent[told:]]


def exchange(session: CompanySession, requests: list[Any]) -> Message:
    return read_message(session.process(envelope.message(requests)))


@pytest.fixture
def desktop() -> Desktop:
    """Ada with three invoices of 100.00 (the third already paid 10.00 by the host app), and Ben with none."""
    d = Desktop()
    d.push("customer", "c-1", {"display_name": "Ada"})
    d.push("customer", "c-2", {"display_name": "Ben"})
    d.push("item", "i-svc", {"kind": "service", "name": "Consulting", "sales_price": "100"})
    for invoice in ("inv-1", "inv-2", "inv-3"):
        d.push("invoice", invoice, {"customer_id": "c-1", "lines": [{"item_id": "i-svc", "amount": "100"}]})
    d.push(
        "payment",
        "pay-host",
        {
            "customer_id": "c-1",
            "total_amount": "10",
            "applications": [{"invoice_id": "inv-3", "amount": "10"}],
        },
    )
    return d


def test_payments_entered_in_quickbooks_are_told_once_each_with_the_host_apps_ids(desktop: Desktop) -> None:
    d, ids = desktop, desktop.ids
    d.later()
    earlier = d.company.receive_payment("Ada", Decimal("20.00"), {ids["inv-1"]: Decimal("20.00")})
    assert [kind for kind, _ in d.read_back()] == ["payment.received"]  # not the host's own payment
    d.later()

    partial = d.company.receive_payment("Ada", Decimal("40.00"), {ids["inv-1"]: Decimal("40.00")})
    split = d.company.receive_payment(
        "Ada",
        Decimal("140.00"),
        {ids["inv-2"]: Decimal("50.00"), ids["inv-3"]: Decimal("90.00")},
        method="Visa",
    )
    unapplied = d.company.receive_payment("Ben", Decimal("25.00"), ref_number="BEN-1")
    d.company.delete(earlier)
    d.later()
    told = d.read_back()

    received = {
        detail["quickbooks_payment_id"]: detail for kind, detail in told if kind == "payment.received"
    }
    assert sorted(kind for kind, _ in told) == ["payment.deleted"] + ["payment.received"] * 3
    assert [detail for kind, detail in told if kind == "payment.deleted"] == [
        {"quickbooks_payment_id": earlier}
    ]
    assert set(received) == {partial, split, unapplied}
    assert (received[partial]["invoice_ids"], received[partial]["customer_id"]) == (["inv-1"], "c-1")
    assert (received[partial]["total_amount"], received[partial]["method"]) == ("40.00", "Check")
    assert received[split]["invoice_ids"] == ["inv-2", "inv-3"]
    assert [a["amount"] for a in received[split]["applications"]] == ["50.00", "90.00"]
    assert received[split]["method"] == "Visa"
    assert (received[unapplied]["customer_id"], received[unapplied]["invoice_ids"]) == ("c-2", [])
    assert (received[unapplied]["unapplied_amount"], received[unapplied]["reference_number"]) == (
        "25.00",
        "BEN-1",
    )

    d.later()
    assert d.read_back() == []  # the cursor moved on: nothing is news
    d.later()
    assert d.read_back() == []

    d.company.edit_transaction(partial, Memo="cheque 1041")
    d.later()
    assert [(kind, detail["quickbooks_payment_id"]) for kind, detail in d.read_back()] == [
        ("payment.updated", partial)
    ]
    told_of = {detail["quickbooks_payment_id"] for _, _, detail in d.events.sent}
    assert ids["pay-host"] not in told_of  # the host pushed it: never told back


def test_the_payment_method_filter_applies_by_the_name_quickbooks_gives() -> None:
    d = Desktop(payment_methods_to_sync=["visa"])
    d.push("customer", "c-2", {"display_name": "Ben"})
    by_card = d.company.receive_payment("Ben", Decimal("25.00"), method="Visa")
    d.company.receive_payment("Ben", Decimal("30.00"), method="Check")
    d.company.receive_payment("Ben", Decimal("35.00"), method=None)
    d.later()

    assert [(kind, detail["quickbooks_payment_id"]) for kind, detail in d.read_back()] == [
        ("payment.received", by_card)
    ]


def test_more_payments_than_a_page_come_back_over_the_iterator_each_told_once(desktop: Desktop) -> None:
    d = desktop
    d.read_back()  # the host's own records: nothing told
    d.later()
    entered = {d.company.receive_payment("Ben", Decimal("1.00"), ref_number=f"R{n}") for n in range(450)}
    d.later()
    cursor = d.relay.log.pulled_until(TENANT)

    first_page = d.read_back(pages_before_dying=1)  # the PC goes off after the first page
    assert 0 < len(first_page) <= MAX_RETURNED  # the host's own payment may be on it, not told
    assert d.relay.log.pulled_until(TENANT) == cursor  # a page that is not the last leaves the cursor

    rest = d.read_back()  # a new session: its iterator is gone, it reads again from the cursor

    told = [detail["quickbooks_payment_id"] for _, detail in first_page + rest]
    assert len(told) == len(entered) == 450  # each once: the first page's payments are not told again
    assert set(told) == entered
    assert {kind for kind, _ in first_page + rest} == {"payment.received"}
    assert d.relay.log.pulled_until(TENANT) > (cursor or START)
    d.later()
    assert d.read_back() == []


def test_a_session_reads_every_page_of_450_payments_in_one_go(desktop: Desktop) -> None:
    d = desktop
    d.later()
    for n in range(450):
        d.company.receive_payment("Ben", Decimal("1.00"), ref_number=f"R{n}")
    d.later()
    messages = d.company.counters["ReceivePaymentQueryRq"]

    told = d.read_back()

    assert len(told) == 450
    assert len({detail["quickbooks_payment_id"] for _, detail in told}) == 450
    assert d.company.counters["ReceivePaymentQueryRq"] - messages == 3  # Start, Continue, Continue
