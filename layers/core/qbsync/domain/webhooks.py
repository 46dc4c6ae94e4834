"""QuickBooks Online webhooks: the entity changes Intuit notifies us of, and the ports routing them needs.

Intuit sends the same facts in two wire formats (the legacy `eventNotifications` envelope and a CloudEvents
array); both become `EntityChange`s. A notification carries no field data: the worker fetches the entity.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from qbsync.domain.errors import DomainError


class Operation(StrEnum):
    """What happened to the entity, in QuickBooks' own (legacy payload) vocabulary."""

    CREATE = "Create"
    UPDATE = "Update"
    DELETE = "Delete"
    MERGE = "Merge"
    VOID = "Void"
    EMAILED = "Emailed"


# Both formats' verbs, lower-cased: legacy `operation` values and CloudEvents `type` verbs (which
# catalogues spell `void` or `voided`, `email` or `emailed`).
_OPERATIONS: dict[str, Operation] = {
    "create": Operation.CREATE,
    "created": Operation.CREATE,
    "update": Operation.UPDATE,
    "updated": Operation.UPDATE,
    "delete": Operation.DELETE,
    "deleted": Operation.DELETE,
    "merge": Operation.MERGE,
    "merged": Operation.MERGE,
    "void": Operation.VOID,
    "voided": Operation.VOID,
    "email": Operation.EMAILED,
    "emailed": Operation.EMAILED,
}

# Entities QuickBooks Online sends webhooks for, spelled as its API names them. CloudEvents types carry the
# name lower-cased (`qbo.purchaseorder.created.v1`); this table restores the spelling the API expects.
ENTITY_NAMES = (
    "Account", "Bill", "BillPayment", "Budget", "ChangeOrder", "Class", "CompanyCurrency", "CreditMemo",
    "Currency", "Customer", "Department", "Deposit", "Employee", "Estimate", "Invoice", "Item", "JournalCode",
    "JournalEntry", "Payment", "PaymentMethod", "Preferences", "Purchase", "PurchaseOrder", "RefundReceipt",
    "SalesReceipt", "TaxAgency", "Term", "TimeActivity", "Transfer", "Vendor", "VendorCredit",
)  # fmt: skip
_ENTITY_BY_LOWER = {name.lower(): name for name in ENTITY_NAMES}


def operation_of(verb: str) -> Operation | None:
    """The operation a legacy `operation` or a CloudEvents verb names, or None for one we do not know."""
    return _OPERATIONS.get(verb.strip().lower())


def entity_name(name: str) -> str:
    """QuickBooks' spelling of an entity name in any case; names not in the table are kept as given."""
    return _ENTITY_BY_LOWER.get(name.lower(), name)


def legacy_event_id(realm_id: str, entity: str, entity_id: str, operation: str, last_updated: str) -> str:
    """A stable id for a legacy notification, which has none: the same change always gets the same id."""
    material = "\x1f".join((realm_id, entity, entity_id, operation, last_updated)).encode("utf-8")
    return "legacy-" + hashlib.sha256(material).hexdigest()


@dataclass(frozen=True)
class EntityChange:
    """One entity of one QuickBooks company changed; `event_id` identifies the notification across retries."""

    event_id: str
    realm_id: str
    entity: str
    entity_id: str
    operation: Operation
    last_updated: datetime | None
    deleted_id: str | None = None  # a merge: the entity merged away into `entity_id` (NOTES §2.1, §2.5)

    def __post_init__(self) -> None:
        if self.last_updated is not None and self.last_updated.tzinfo is None:
            raise ValueError("last_updated must carry a time zone")


class WebhookSignatureError(DomainError):
    """The request is not proven to come from Intuit: no `intuit-signature`, or one that does not match."""

    title = "Invalid signature"


class WebhookPayloadError(DomainError):
    """The signed body is not a webhook payload in either format Intuit sends."""

    title = "Unreadable webhook payload"


class WebhookEventLog(Protocol):
    """Remembers the notifications already routed, so a redelivery is not routed twice."""

    def claim(self, event_id: str, now: datetime) -> bool:
        """Record the event as routed; True the first time, False when it was already claimed."""

    def release(self, event_id: str) -> None:
        """Forget a claim whose routing failed, so Intuit's retry of it is routed again."""


class RealmDirectory(Protocol):
    """Which tenant connected a QuickBooks Online company (realm)."""

    def tenant_for_realm(self, realm_id: str) -> str | None: ...
