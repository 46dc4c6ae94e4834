"""Payments recorded in QuickBooks, told to the host app as events.

Online has two paths here: a webhook's `qbo.entity_changed` job for the payments a delivery named, and the
scheduled Change Data Capture pull that catches what a webhook missed. Desktop has one: each Web Connector
session reads the payments changed since the cursor (`window`) through the qbXML codec
(adapters/qbxml/payments.py) and hands them to `ingest`, as `pull` does with what Online's Change Data Capture
gives. Every path ends in `PaymentRelay.relay` (or `_deleted`), which tells each change of a payment once:
`payment.received` the first time, `payment.updated` when its SyncToken (Desktop: EditSequence) moved,
`payment.voided` when it was voided, `payment.deleted` when it is gone. A compare-and-set on what was last
told makes the paths (and redeliveries) agree on who tells.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from qbsync.domain.connections import EventPublisher
from qbsync.domain.payments import PaymentLog, PaymentSource, ReceivedPayment, Told
from qbsync.domain.ports import Clock
from qbsync.domain.settings import SettingsRepository, SyncSettings
from qbsync.domain.sync import RecordStore
from qbsync.usecases.settings import settings_in_force

log = logging.getLogger(__name__)

PAYMENT_RECEIVED = "payment.received"
PAYMENT_UPDATED = "payment.updated"
PAYMENT_VOIDED = "payment.voided"
PAYMENT_DELETED = "payment.deleted"
# A first pull starts a day back; an initial sync without a since date reads payments this far back.
FIRST_PULL = timedelta(days=1)
INITIAL_LOOKBACK = timedelta(days=29)
# QuickBooks may stamp a change a little after it happened; pull with some overlap (duplicates are dropped).
OVERLAP = timedelta(minutes=5)
_TXN_TYPES = {"Invoice": "invoice", "CreditMemo": "credit_memo"}


@dataclass(frozen=True)
class PaymentWindow:
    """The payments to read for one tenant: changed since `since`, told under `settings`."""

    settings: SyncSettings
    since: datetime


@dataclass
class PaymentRelay:
    # Online's reader (webhook reads, Change Data Capture, method names by id). Desktop has none: its
    # payments come back through the Web Connector session, named, and go straight to `ingest`.
    source: PaymentSource | None
    log: PaymentLog
    records: RecordStore
    settings: SettingsRepository
    events: EventPublisher
    clock: Clock

    def on_change(self, tenant_id: str, quickbooks_id: str, operation: str) -> str | None:
        """A webhook said this payment changed: read it and tell the host app. Returns the event sent."""
        _, settings = settings_in_force(self.settings, tenant_id)
        if not settings.sync_payments_from_quickbooks:
            return None
        if operation == "Delete":
            return self._deleted(tenant_id, quickbooks_id)
        payment = self._online().read_payment(tenant_id, quickbooks_id)
        if payment is None:
            return self._deleted(tenant_id, quickbooks_id)
        return self.relay(tenant_id, settings, payment)

    def pull(self, tenant_id: str) -> int:
        """Online's changes since the last pull (Change Data Capture; from further back than it looks, as an
        initial sync's since date asks, a query by modified time); the cursor moves once every change is
        told."""
        window = self.window(tenant_id)
        if window is None:
            return 0
        payments, deleted, server_time = self._online().changed_payments(tenant_id, window.since)
        return self.ingest(tenant_id, window.settings, payments, deleted, server_time)

    def window(self, tenant_id: str) -> PaymentWindow | None:
        """What to read: None when the tenant does not sync payments back, else its settings and the time to
        read changes from: the cursor less OVERLAP, or FIRST_PULL back the first time."""
        _, settings = settings_in_force(self.settings, tenant_id)
        if not settings.sync_payments_from_quickbooks:
            return None
        since = (self.log.pulled_until(tenant_id) or self.clock.now() - FIRST_PULL) - OVERLAP
        return PaymentWindow(settings, since)

    def ingest(
        self,
        tenant_id: str,
        settings: SyncSettings,
        payments: Iterable[ReceivedPayment],
        deleted_ids: Iterable[str],
        until: datetime,
        *,
        complete: bool = True,
    ) -> int:
        """Tell each payment read (`relay`) and each deleted one (`_deleted`); then, when this was the last
        page of the read (`complete`), move the cursor to `until`, the time the read covers up to. A page
        that is not the last tells, but leaves the cursor: a read cut short starts again from it, and what
        it tells twice is dropped by the compare-and-set. The cursor never moves back."""
        sent = sum(1 for p in payments if self.relay(tenant_id, settings, p))
        sent += sum(1 for quickbooks_id in deleted_ids if self._deleted(tenant_id, quickbooks_id))
        if complete:
            self.log.advance(tenant_id, until)
        return sent

    def relay(self, tenant_id: str, settings: SyncSettings, payment: ReceivedPayment) -> str | None:
        if self.records.find_by_quickbooks_id(tenant_id, "payment", payment.quickbooks_id) is not None:
            return None  # the host app sent this payment itself
        method = payment.method_name
        if method is None and payment.method_quickbooks_id and self.source is not None:
            method = self.source.payment_method_name(tenant_id, payment.method_quickbooks_id)
        if not settings.syncs_payment_method(method):
            return None
        before = self.log.told(tenant_id, payment.quickbooks_id)
        now = Told(payment.quickbooks_version, payment.voided)
        if before is not None and before.quickbooks_version == now.quickbooks_version and not before.deleted:
            return None
        if payment.voided:
            kind = PAYMENT_VOIDED if before is None or not before.voided else PAYMENT_UPDATED
        else:
            kind = PAYMENT_RECEIVED if before is None else PAYMENT_UPDATED
        if not self.log.tell(tenant_id, payment.quickbooks_id, now, before):
            return None
        self.events.publish(kind, tenant_id, self._detail(tenant_id, payment, method))
        log.info(
            "payment told",
            extra={"tenant_id": tenant_id, "event": kind, "quickbooks_id": payment.quickbooks_id},
        )
        return kind

    def _online(self) -> PaymentSource:
        if self.source is None:
            raise RuntimeError("this relay has no PaymentSource: Desktop payments come in through ingest")
        return self.source

    def _deleted(self, tenant_id: str, quickbooks_id: str) -> str | None:
        before = self.log.told(tenant_id, quickbooks_id)
        if before is None or before.deleted:
            return None  # never told of it, or already told it is gone
        if not self.log.tell(
            tenant_id, quickbooks_id, Told(before.quickbooks_version, before.voided, deleted=True), before
        ):
            return None
        self.events.publish(PAYMENT_DELETED, tenant_id, {"quickbooks_payment_id": quickbooks_id})
        return PAYMENT_DELETED

    def _detail(self, tenant_id: str, payment: ReceivedPayment, method: str | None) -> dict[str, Any]:
        customer = self.records.find_by_quickbooks_id(tenant_id, "customer", payment.customer_quickbooks_id)
        applications = []
        for line in payment.lines:
            record_type = _TXN_TYPES.get(line.txn_type)
            mapped = (
                self.records.find_by_quickbooks_id(tenant_id, record_type, line.txn_id)
                if record_type
                else None
            )
            entry: dict[str, Any] = {
                "quickbooks_txn_type": line.txn_type,
                "quickbooks_txn_id": line.txn_id,
                "amount": str(line.amount),
            }
            if mapped is not None and record_type is not None:
                entry[f"{record_type}_id"] = mapped.record_id
            applications.append(entry)
        return {
            "quickbooks_payment_id": payment.quickbooks_id,
            "quickbooks_customer_id": payment.customer_quickbooks_id,
            "customer_id": customer.record_id if customer else None,
            "total_amount": str(payment.total_amount),
            "unapplied_amount": str(payment.unapplied_amount),
            "txn_date": payment.txn_date.isoformat() if payment.txn_date else None,
            "method": method,
            "reference_number": payment.reference_number,
            "voided": payment.voided,
            "invoice_ids": [a["invoice_id"] for a in applications if "invoice_id" in a],
            "applications": applications,
        }
