"""Payments received in QuickBooks Desktop, read back: the requests a Web Connector session sends for them,
and their answers read as the domain's `ReceivedPayment`s, for `PaymentRelay.ingest` (usecases/payments.py).

A session of a tenant that syncs payments back (`PaymentRelay.window`) sends the two requests of
`payment_queries` in one message: a ReceivePaymentQuery by modified date, paged by an iterator, and a
TxnDeletedQuery for the payments deleted. The query's pages follow with `payment_query(..., iterator_id=...)`
until `iteratorRemainingCount` is 0 (NOTES.md §2; an iterator lives in its QuickBooks session only, 3391
afterwards, consolibyte/quickbooks-php#183: a new session reads again from the cursor). Each page goes to
`ingest`; only the last moves the cursor, to `latest_modified` of every page.

Times. QuickBooks filters on its local wall time, written without an offset (`requests.local_time`), and it
stamps TimeModified and TimeDeleted with that wall time and an offset which is the zone's standard one even in
summer: the captured ReceivePaymentRet has TimeModified 2010-10-03T19:15:35-08:00 with EditSequence
1286158535, i.e. 02:15:35 UTC, 19:15:35 PDT (local/qbd/model.py; jsgoupil/quickbooks-sync's README,
"Handling Timestamps"). A cursor taken from such a stamp turns back into the wall time QuickBooks wrote only
through the same offset, so the queries take `utc_offset`: the offset QuickBooks writes on this company's
stamps (a stamp's `utcoffset()`, as `latest_modified` keeps it), not the zone's offset of the day, which
would start the read an hour late all summer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from qbsync.adapters.qbxml import requests as rq
from qbsync.adapters.qbxml.read import QbxmlReadError, Response, Ret
from qbsync.domain.payments import AppliedLine, ReceivedPayment

MAX_RETURNED = 200  # payments per page (desktop.md §4)
# What the mapping reads, and nothing more (IncludeRetElement).
PAYMENT_RETURNS = (
    "TxnID",
    "TimeModified",
    "EditSequence",
    "CustomerRef",
    "TxnDate",
    "RefNumber",
    "TotalAmount",
    "PaymentMethodRef",
    "DepositToAccountRef",
    "UnusedPayment",
    "AppliedToTxnRet",
)
DELETED_RETURNS = ("TxnDelType", "TxnID", "TimeDeleted")
PAYMENT = "ReceivePayment"  # the TxnDelType of a payment


def company_time(moment: datetime, utc_offset: timedelta) -> datetime:
    """`moment` as the naive wall time QuickBooks writes with `utc_offset` (what a filter takes)."""
    if moment.tzinfo is None:
        raise ValueError("pass an aware datetime: the cursor is a point in time")
    return moment.astimezone(timezone(utc_offset)).replace(tzinfo=None)


def payment_query(
    request_id: str, since: datetime, *, utc_offset: timedelta, iterator_id: str | None = None
) -> Any:
    """ReceivePaymentQueryRq of the payments modified since `since`, with their applications (AppliedToTxnRet,
    IncludeLineItems), MAX_RETURNED at a time: iterator="Start" without `iterator_id`, else the "Continue"
    of that iterator (the same query again, as the iterator's own request: NOTES.md §2)."""
    return rq.txn_query(
        PAYMENT,
        request_id,
        modified_from=company_time(since, utc_offset),
        paging=rq.Paging(MAX_RETURNED, iterator_id),
        include_line_items=True,
        include=PAYMENT_RETURNS,
    )


def payment_queries(
    since: datetime, *, utc_offset: timedelta, payments_request_id: str, deleted_request_id: str
) -> tuple[Any, Any]:
    """The first page of the payments modified since `since`, and the payments deleted since then
    (TxnDeletedQueryRq, TxnDelType ReceivePayment, DeletedDateRangeFilter from `since`)."""
    deleted = rq.txn_deleted_query(
        deleted_request_id,
        txn_types=[PAYMENT],
        deleted_from=company_time(since, utc_offset),
        include=DELETED_RETURNS,
    )
    return payment_query(payments_request_id, since, utc_offset=utc_offset), deleted


def received_payment(ret: Ret) -> ReceivedPayment:
    """A ReceivePaymentRet as a ReceivedPayment.

    Applications: one line per AppliedToTxnRet (its TxnType and TxnID), and one per credit used towards that
    invoice, which QuickBooks lists inside it as a LinkedTxn with a negative Amount (a credit memo, or an
    earlier payment's unused amount). QuickBooks writes in the AppliedToTxnRet's Amount the cash part only:
    a payment's TotalAmount is the sum of its AppliedToTxnRet Amounts and its UnusedPayment, credits apart
    (the captured ReceivePaymentRet, 112.35 of 112.35; consolibyte/quickbooks-php's example ReceivePaymentRet,
    399.77 = 100.00 + 100.00 + 199.77, the second with a LinkedTxn of -100.00). The invoice's line is what the
    payment paid on it in all, cash and credits, as Online's Payment line is and as the host app sends an
    application (adapters/qbxml/mapping.py `applied`); a credit's line is the credit used.

    Voided: never. QuickBooks Desktop's SDK has no voided payment: TxnVoidType has no ReceivePayment and
    ReceivePaymentRet no void flag (qbxml130.xsd and qbxml160.xsd), and the reference's notes (NOTES.md,
    desktop.md §7) say nothing of how one voided in QuickBooks' window would read. Such a payment comes back
    as what it then is, amounts and all, told as `payment.updated`; one deleted is told as
    `payment.deleted` (`deleted_payments`).

    QbxmlReadError when the Ret lacks what names the payment (TxnID, EditSequence, CustomerRef ListID)."""
    if ret.kind != PAYMENT:
        raise QbxmlReadError(f"{ret.tag} is not a ReceivePaymentRet.")
    txn_id, edit_sequence = ret.txn_id, ret.edit_sequence
    customer = ret.ref("CustomerRef")
    if txn_id is None or edit_sequence is None or customer is None or customer.list_id is None:
        raise QbxmlReadError("A ReceivePaymentRet lacks its TxnID, EditSequence or CustomerRef ListID.")
    total = ret.decimal_of("TotalAmount") or Decimal(0)
    lines: list[AppliedLine] = []
    cash_applied = Decimal(0)
    for applied in ret.rets("AppliedToTxn"):
        cash = applied.decimal_of("Amount") or Decimal(0)
        credits = [
            AppliedLine(str(link.text_of("TxnType")), str(link.text_of("TxnID")), abs(amount))
            for link in applied.all("LinkedTxn")
            if link.text_of("TxnID") and link.text_of("TxnType") and (amount := link.decimal_of("Amount"))
        ]
        cash_applied += cash
        lines.append(
            AppliedLine(
                str(applied.text_of("TxnType")),
                str(applied.text_of("TxnID")),
                cash + sum((c.amount for c in credits), Decimal(0)),
            )
        )
        lines.extend(credits)
    unused = ret.decimal_of("UnusedPayment")
    method = ret.ref("PaymentMethodRef")
    deposit = ret.ref("DepositToAccountRef")
    return ReceivedPayment(
        quickbooks_id=txn_id,
        quickbooks_version=edit_sequence,
        customer_quickbooks_id=customer.list_id,
        total_amount=total,
        unapplied_amount=total - cash_applied if unused is None else unused,
        txn_date=ret.date_of("TxnDate"),
        method_quickbooks_id=method.list_id if method else None,
        reference_number=ret.ref_number,
        deposit_account_quickbooks_id=deposit.list_id if deposit else None,
        lines=tuple(lines),
        voided=False,
        last_updated=ret.time_modified,
        method_name=method.full_name if method else None,
    )


def deleted_payments(response: Response) -> list[str]:
    """The TxnIDs of the payments a TxnDeletedQuery answer lists."""
    return [str(ret.txn_id) for ret in response.rets if _deleted_payment(ret)]


def latest_modified(responses: Iterable[Response], at_least: datetime) -> datetime:
    """How far a read of payments got: the latest TimeModified of the payments and TimeDeleted of the
    deletions in `responses`, in QuickBooks' own offset; `at_least` (the previous page's, or the read's
    `since`) when none is later. The session moves the cursor there after the last page: everything stamped
    up to it was in the answers."""
    latest = at_least
    for response in responses:
        for ret in response.rets:
            if ret.kind == PAYMENT:
                stamp = ret.time_modified
            elif _deleted_payment(ret):
                stamp = ret.datetime_of("TimeDeleted")
            else:
                continue
            if stamp is not None and stamp > latest:
                latest = stamp
    return latest


def _deleted_payment(ret: Ret) -> bool:
    return ret.kind == "TxnDeleted" and ret.text_of("TxnDelType") == PAYMENT and ret.txn_id is not None


__all__ = [
    "DELETED_RETURNS",
    "MAX_RETURNED",
    "PAYMENT_RETURNS",
    "company_time",
    "deleted_payments",
    "latest_modified",
    "payment_queries",
    "payment_query",
    "received_payment",
]
