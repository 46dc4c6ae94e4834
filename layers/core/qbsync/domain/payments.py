"""Payments received in QuickBooks, as the worker reads them to tell the host app, and the ports that read
them (`PaymentSource`) and remember what the host app was told of each (`PaymentLog`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class AppliedLine:
    """Part of a payment applied to one QuickBooks transaction."""

    txn_type: str  # "Invoice" or "CreditMemo"
    txn_id: str  # QuickBooks Id of that transaction
    amount: Decimal


@dataclass(frozen=True)
class ReceivedPayment:
    quickbooks_id: str
    quickbooks_version: str
    customer_quickbooks_id: str
    total_amount: Decimal
    unapplied_amount: Decimal
    txn_date: date | None
    method_quickbooks_id: str | None
    reference_number: str | None
    deposit_account_quickbooks_id: str | None
    lines: tuple[AppliedLine, ...]
    voided: bool  # QuickBooks keeps a voided payment with its amounts at 0 and "Voided" in PrivateNote
    last_updated: datetime | None
    # The payment method's name when QuickBooks gives it (Desktop: PaymentMethodRef/FullName); Online gives
    # only its id, which the relay looks up.
    method_name: str | None = None


class PaymentSource(Protocol):
    def read_payment(self, tenant_id: str, quickbooks_id: str) -> ReceivedPayment | None: ...

    def changed_payments(
        self, tenant_id: str, since: datetime
    ) -> tuple[list[ReceivedPayment], list[str], datetime]:
        """Payments changed since `since`, the Ids of those deleted, and QuickBooks' time of the answer."""

    def payment_method_name(self, tenant_id: str, quickbooks_id: str) -> str | None: ...


@dataclass(frozen=True)
class Told:
    """What the host app was last told of one payment."""

    quickbooks_version: str
    voided: bool
    deleted: bool = False


class PaymentLog(Protocol):
    def told(self, tenant_id: str, quickbooks_id: str) -> Told | None: ...

    def tell(self, tenant_id: str, quickbooks_id: str, now: Told, before: Told | None) -> bool:
        """Record `now` if what is stored is still `before`; False when another worker got there first."""

    def pulled_until(self, tenant_id: str) -> datetime | None: ...

    def advance(self, tenant_id: str, to: datetime) -> None: ...

    def rewind(self, tenant_id: str, to: datetime) -> None:
        """Move the cursor back to `to` (or set it there, when there is none); never forward: the next read
        starts there, and what it brings that was told already is not told again."""
