"""Payments received in QuickBooks, as the worker reads them to tell the host app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class AppliedLine:
    """Part of a payment applied to one QuickBooks transaction."""

    txn_type: str  # "Invoice" or "CreditMemo"
    txn_id: str  # QuickBooks Id of that transaction
    amount: Decimal


@dataclass(frozen=True)
class ReceivedPayment:
    qbo_id: str
    sync_token: str
    customer_qbo_id: str
    total_amount: Decimal
    unapplied_amount: Decimal
    txn_date: date | None
    method_qbo_id: str | None
    reference_number: str | None
    deposit_account_qbo_id: str | None
    lines: tuple[AppliedLine, ...]
    voided: bool  # QuickBooks keeps a voided payment with its amounts at 0 and "Voided" in PrivateNote
    last_updated: datetime | None
