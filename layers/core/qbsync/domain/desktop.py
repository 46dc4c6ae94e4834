"""A QuickBooks Desktop company as its Web Connector session first describes it, and whether qbsync can work
with it. No XML here: adapters/qbxml/hcp.py reads the description into `CompanyFacts`.

On the first sendRequestXML of each session the Web Connector passes what QuickBooks answered to HostQuery,
CompanyQuery and PreferencesQuery (strHCPResponse: QBWC Programmer's Guide pp.22-23, 80-81;
shared/reference/qbwc/NOTES.md §1.3). qbsync writes qbXML 13.0, which QuickBooks Desktop 2014 and later
read: QuickBooks Pro 2014 (MajorVersion 24) lists 13.0 among its SupportedQBXMLVersion values, QuickBooks Pro
2006 (MajorVersion 16) stops at 5.0 (NOTES §3.2, from qbwc/qbwc's test_helper.rb and the captured
quickbooks_log.txt). Only the US edition is supported for now: qbXML has UK, Canadian and Australian variants
that qbsync does not write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: the Web Connector's function imports this module and no pydantic
    from qbsync.domain.mirror import ListRead, ListType
    from qbsync.domain.payments import ReceivedPayment
    from qbsync.domain.settings import SyncSettings
    from qbsync.domain.sync import Batch, EditionProfile, Failure, Outcomes

QBXML_VERSION = (13, 0)  # the qbXML version qbsync writes; a host must list it, or a later one
SUPPORTED_COUNTRY = "US"
TOO_OLD = "quickbooks_too_old"  # refusal codes, as connection problems name them
UNSUPPORTED_EDITION = "unsupported_edition"
UNREADABLE = (
    "qbsync could not read what QuickBooks reported about itself and this company file, so it sent nothing. "
    "{reason} Run the Web Connector again; if this keeps happening, contact the application's support."
)
_VERSION = re.compile(r"(\d{1,4})\.(\d{1,4})")


class CompanyFactsUnreadableError(Exception):
    """strHCPResponse is not a HostQuery/CompanyQuery/PreferencesQuery answer that can be read; the message
    says what was wrong, in words fit for the Web Connector's status column."""


@dataclass(frozen=True)
class CompanyFacts:
    """What QuickBooks says about itself and the open company file at the start of a session."""

    product_name: str  # "QuickBooks Pro 2006", "QuickBooks Desktop Pro 2024"
    major_version: str  # QuickBooks' own release number ("16" for 2006, "24" for 2014), not qbXML's
    minor_version: str
    qbxml_versions: tuple[str, ...]  # SupportedQBXMLVersion, as listed ("1.0" ... "13.0")
    country: str  # HostRet Country: "US", "CA", "UK", "AU"; "" when QuickBooks does not say
    company_name: str
    file_mode: str = ""  # QBFileMode: "SingleUser" or "MultiUser", when given
    is_using_inventory: bool | None = None  # PurchasesAndVendorsPreferences; None when not reported
    taxable_code: str | None = None  # FullName of the default taxable sales tax code ("Tax")
    non_taxable_code: str | None = None  # and of the non-taxable one ("Non")
    file_ids: tuple[tuple[str, str], ...] = ()  # (OwnerID, value) of each FileID DataExt on the company

    @property
    def highest_qbxml_version(self) -> tuple[int, int] | None:
        """The newest qbXML version the host reads; country variants ("CA3.0") and oddities are skipped."""
        versions = [m for v in self.qbxml_versions if (m := _VERSION.fullmatch(v.strip()))]
        return max(((int(m[1]), int(m[2])) for m in versions), default=None)

    def file_id(self, owner_id: str) -> str | None:
        """The FileID the Web Connector stored under this OwnerID (a GUID; case and braces do not matter)
        the first time it connected to the file (guide p.36), or None."""
        wanted = _guid_key(owner_id)
        return next((value for owner, value in self.file_ids if _guid_key(owner) == wanted), None)

    def refusal_code(self) -> str | None:
        """Why qbsync cannot work with this QuickBooks, as a code (`quickbooks_too_old`,
        `unsupported_edition`); None when it can."""
        highest = self.highest_qbxml_version
        if highest is None or highest < QBXML_VERSION:
            return TOO_OLD
        if self.country != SUPPORTED_COUNTRY:
            return UNSUPPORTED_EDITION
        return None

    def refusal(self) -> str | None:
        """Why qbsync cannot work with this QuickBooks, in words for the Web Connector's status column; None
        when it can."""
        product = self.product_name or "a QuickBooks Desktop that does not give its name"
        code = self.refusal_code()
        if code == TOO_OLD:
            highest = self.highest_qbxml_version
            reads = f"reads qbXML up to {highest[0]}.{highest[1]}" if highest else "lists no qbXML version"
            return (
                "QuickBooks Desktop 2014 or newer is needed (it reads qbXML "
                f"{QBXML_VERSION[0]}.{QBXML_VERSION[1]}); this company file is open in {product}, which "
                f"{reads}. Open it in a newer QuickBooks Desktop and run the Web Connector again."
            )
        if code == UNSUPPORTED_EDITION:
            edition = f"the {self.country} edition" if self.country else "an edition that gives no country"
            return (
                "qbsync works with the US edition of QuickBooks Desktop for now; this company file is open "
                f"in {product}, {edition}."
            )
        return None


def same_guid(a: str, b: str) -> bool:
    """Whether two GUIDs are the same, as QuickBooks and the Web Connector write them: case and braces do
    not matter."""
    return _guid_key(a) == _guid_key(b)


def _guid_key(guid: str) -> str:
    return guid.strip().strip("{}").lower()


@dataclass(frozen=True)
class SalesTaxCodes:
    """The company's default sales tax codes (PreferencesRet SalesTaxPreferences
    DefaultTaxableSalesTaxCodeRef / DefaultNonTaxableSalesTaxCodeRef): what the canonical TAX and NON
    become."""

    taxable: str = "Tax"
    non_taxable: str = "Non"


@dataclass(frozen=True)
class OrderLine:
    """A purchase order line as QuickBooks has it (PurchaseOrderLineRet): what a bill's item line can be
    linked to, and how much of it is still to be received."""

    txn_line_id: str
    item_list_id: str | None
    open_quantity: Decimal


class CompanyFactsReader(Protocol):
    def __call__(self, hcp_response: str) -> CompanyFacts:
        """The facts in a strHCPResponse; CompanyFactsUnreadableError when they cannot be read."""


# ------------------------------------------------------------------------------------------------ exchanges
#
# One sendRequestXML hands QuickBooks one engine batch as one qbXML message; its receiveResponseXML brings the
# answer, maybe to another Lambda, maybe never. What the message asked is stored before the message is
# returned, and the answer before it is applied, so whoever comes next can finish or settle it.


class Opened(StrEnum):
    """What a Web Connector login finds (authenticate's answer follows from it)."""

    SESSION = "session"  # work to do: the session holds the tenant's run
    NOTHING = "none"  # nothing to send and nothing to read back
    BUSY = "busy"  # another session of the tenant holds the run


class Asked(StrEnum):
    """Why a request of an exchange was made: the engine's batch parts (domain/sync.Batch)."""

    WRITE = "write"
    LOOK_UP = "look_up"  # what an unconfirmed create made, if anything
    REREAD = "reread"  # the object as QuickBooks has it now
    NAME_HOLDERS = "name_holders"  # who holds a name
    PAYMENTS = "payments"  # payments received or deleted in QuickBooks since the cursor (no record)
    ORDER_LINES = "order_lines"  # a purchase order's lines, for the bills to link to (`entity`: its TxnID)
    LISTS = "lists"  # a page of one of the company's lists, or its deletions (`entity`: the query; no record)


class ExchangeState(StrEnum):
    SENT = "sent"  # handed to the Web Connector; no answer yet
    ANSWERED = "answered"  # the answer is stored, not (wholly) applied yet
    APPLIED = "applied"
    LOST = "lost"  # its session ended without an answer: its writes are looked up before they go again


@dataclass(frozen=True)
class ExchangeEntry:
    """One request of an exchange: the record it is about, as it was when the request was built (revision and
    state: what a result is stored against), why it was asked, and the codec's note of what it does (`op`:
    add, mod, remove or query; `entity`: the list a question reads)."""

    request_id: str
    asked: Asked
    record_type: str
    record_id: str
    revision: int
    state: str
    op: str
    name: str = ""
    entity: str = ""


@dataclass(frozen=True)
class Exchange:
    """The message of a Web Connector session that was handed out last, and what became of it."""

    tenant_id: str
    exchange_id: str  # the message's newMessageSetID
    ticket_digest: str  # the session that handed it out
    state: ExchangeState
    sent_at: datetime
    entries: tuple[ExchangeEntry, ...]
    answer: str | None = None  # QuickBooks' answer, once stored


@dataclass(frozen=True)
class Encoded:
    """An engine batch as one qbXML message: its text and requests, and the writes that were never put in it
    (the codec cannot express them: their Failure, by the record's key)."""

    message: str
    entries: tuple[ExchangeEntry, ...]
    refused: Mapping[str, Failure]


class ExchangeStore(Protocol):
    """At most one exchange per tenant is kept: the last one handed out."""

    def current(self, tenant_id: str) -> Exchange | None: ...

    def put(self, exchange: Exchange) -> None:
        """Store a new exchange (state SENT), replacing the one kept before."""

    def answer(self, tenant_id: str, exchange_id: str, answer: str) -> bool:
        """Store the answer of this exchange (state ANSWERED) if it is still the one kept and has none yet."""

    def close(self, tenant_id: str, exchange_id: str, state: ExchangeState) -> bool:
        """Mark this exchange APPLIED or LOST if it is still the one kept and not closed yet."""


@dataclass(frozen=True)
class PaymentsRead:
    """One page of payments read back: the payments and deletions, the time the read covers up to, and the
    iterator of the next page (None after the last)."""

    payments: tuple[ReceivedPayment, ...]
    deleted_ids: tuple[str, ...]
    until: datetime
    iterator_id: str | None


@dataclass(frozen=True)
class ListAsk:
    """One list query of a session's read of the company's lists (`DesktopCodec.list_queries` names them):
    the entries modified since `since` (None: all of them, a first load), or the next page of
    `iterator_id`."""

    query: str
    since: datetime | None = None
    iterator_id: str | None = None


@dataclass(frozen=True)
class ListPage:
    """What one list query answered: a read per list it feeds (changes only: neither `complete` nor with a
    `through`, which only the query's last page may move), the newest TimeModified among them, and the
    iterator of its next page (None after the last)."""

    query: str
    reads: tuple[ListRead, ...]
    newest: datetime | None
    iterator_id: str | None


@dataclass(frozen=True)
class ListsAnswer:
    """QuickBooks' answer to a message reading the lists: each query's page, the deletions (one read per
    list, `removed` only), and the queries QuickBooks refused (read again in a later session)."""

    pages: tuple[ListPage, ...]
    deletions: tuple[ListRead, ...]
    refused: tuple[str, ...]


class DesktopCodec(Protocol):
    """Engine batches as qbXML messages and QuickBooks' answers as outcomes (adapters/qbxml/exchange.py)."""

    @property
    def profile(self) -> EditionProfile: ...

    def encode(
        self,
        batch: Batch,
        settings: SyncSettings,
        *,
        message_set_id: str,
        sales_tax_codes: SalesTaxCodes | None,
        order_lines: Mapping[str, Sequence[OrderLine]],
    ) -> Encoded:
        """The message carrying the batch, what each of its requests is for, and the writes left out.
        `order_lines`: the lines of purchase orders read in this session, by TxnID, for new bills to link."""

    def encode_order_reads(self, order_ids: Sequence[str], *, message_set_id: str) -> Encoded:
        """The message reading these purchase orders' lines (by TxnID)."""

    def decode_order_reads(self, entries: Sequence[ExchangeEntry], answer: str) -> dict[str, list[OrderLine]]:
        """Each purchase order's lines by TxnID (none for one QuickBooks no longer has); ValueError when the
        answer cannot be read."""

    def decode(self, batch: Batch, entries: Sequence[ExchangeEntry], answer: str) -> Outcomes:
        """What became of the batch, from QuickBooks' answer to the message `entries` describe."""

    def encode_payments(self, since: datetime, *, message_set_id: str, iterator_id: str | None) -> Encoded:
        """The message reading payments changed (and deleted) since `since`: the next page of an iterator."""

    def decode_payments(self, entries: Sequence[ExchangeEntry], answer: str, since: datetime) -> PaymentsRead:
        """The page QuickBooks answered; ValueError when it cannot be read or QuickBooks refused the read."""

    @property
    def list_queries(self) -> Mapping[str, tuple[ListType, ...]]:
        """The queries that read the company's lists, each with the lists it feeds (ItemQuery: the items,
        sales tax items and sales tax groups)."""

    def encode_lists(
        self, asks: Sequence[ListAsk], *, message_set_id: str, deleted_since: datetime | None, deletions: bool
    ) -> Encoded:
        """The message reading the next page of each of `asks`; with `deletions`, also the entries of their
        lists deleted since `deleted_since` (None: all QuickBooks remembers)."""

    def decode_lists(self, entries: Sequence[ExchangeEntry], answer: str) -> ListsAnswer:
        """What QuickBooks answered; ValueError when the answer cannot be read."""
