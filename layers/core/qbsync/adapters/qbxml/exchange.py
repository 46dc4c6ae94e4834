"""An engine batch as one qbXML message, and QuickBooks' answer to it as the engine's `Outcomes`.

This is Desktop's half of what `QboBooks.send` does for Online in one call: there, the request and its answer
happen in one process; here the Web Connector carries the message to QuickBooks between two callbacks, so
encoding and decoding are apart, and `ExchangeEntry`s (stored between them) say what each request was for.

- Writes: one request each (`mapping.to_qbxml`), its requestID its position in the message. A record the codec
  cannot express is left out with its Failure (`Encoded.refused`).
- Look-ups (an unconfirmed create): names by FullName, documents by RefNumber, anything else (jobs, payments
  and documents without a number) by a modified-date range from a day before the record's last change, the
  margin covering the company's clock and time zone (its filters take company-local time). What comes back is
  matched on the ExternalGUID the create carried (`mapping.external_guid`), never on a name or number alone.
- Re-reads: by ListID or TxnID, trimmed to the id and EditSequence.
- Name holders: the name in each list that shares it: customers, vendors, employees and other names for a
  customer, vendor or employee (one name space in QuickBooks Desktop: status 3100 otherwise), items for an
  item.
- The answer: each response by its requestID, its status through `status.fault_of`. A request whose response
  is missing is left out of the outcomes, so the engine treats it as unanswered; an answer that cannot be read
  at all is an unknown outcome for the whole batch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from qbsync.adapters.qbxml import envelope
from qbsync.adapters.qbxml import lists as ls
from qbsync.adapters.qbxml import payments as pay
from qbsync.adapters.qbxml import requests as rq
from qbsync.adapters.qbxml.mapping import TXN_TYPES, external_guid, order_lines, to_qbxml
from qbsync.adapters.qbxml.read import QbxmlReadError, Response, Ret, read_message
from qbsync.adapters.qbxml.status import Op, fault_of
from qbsync.domain.desktop import (
    Asked,
    Encoded,
    ExchangeEntry,
    ListAsk,
    ListsAnswer,
    OrderLine,
    PaymentsRead,
    SalesTaxCodes,
)
from qbsync.domain.mirror import ListType
from qbsync.domain.records import Customer
from qbsync.domain.settings import SyncSettings
from qbsync.domain.sync import (
    Batch,
    EditionProfile,
    Failure,
    Fault,
    FaultAction,
    Found,
    Operation,
    Outcomes,
    Write,
    WriteResult,
    ref_key,
)
from qbsync.domain.tenants import Edition

log = logging.getLogger(__name__)

# One message carries at most this many requests. QuickBooks runs a message's requests one after another on
# the tenant's PC; what binds is how long that takes and how much an unanswered message costs to look up, not
# size (a 3-line InvoiceAdd is about 1.3 kB, far below API Gateway's 10 MB and Lambda's 6 MB).
BATCH_MAX = 250
# A Web Connector session holds the tenant's run between callbacks; every callback renews it. A session that
# stops calling (the PC went off, QuickBooks was closed) frees the tenant after this long, so the next
# scheduled update (every 10 minutes by default) finds it free; one that comes sooner is told "busy". Longer
# than QuickBooks takes to run one message; were it ever shorter, the next session would settle that message
# as unanswered (its records looked up, never written twice) and its late answer would be left unapplied.
LEASE = timedelta(minutes=3)
# Each callback plans and stores for at most this long: API Gateway gives the function 30 s.
CALLBACK_BUDGET = timedelta(seconds=15)
PROFILE = EditionProfile(
    batch_max=BATCH_MAX,
    lease=LEASE,
    run_budget=CALLBACK_BUDGET,
    edition=Edition.QBD,
    record_retry_pauses_run=False,
    check_names_first=True,
)
# Payments and lists are read from a cursor in the company's wall time, whose offset is not known to qbsync:
# the read starts as if the company were at UTC-12, west of every US zone (Desktop tenants are US companies:
# domain/desktop.SUPPORTED_COUNTRY). Further east it starts some hours early; the relay tells each change
# once, and the mirror tells nothing of an entry read again unchanged.
PAYMENTS_OFFSET = timedelta(hours=-12)
LOOK_BACK = timedelta(days=1)  # a look-up by modified date starts this long before the record's last change

_LIST_ENTITIES = {"customer": "Customer", "vendor": "Vendor", "employee": "Employee"}
# Who can hold a name (3100): the lists sharing it, with the record type each Found is reported as.
_PEOPLE_LISTS = (
    ("Customer", "customer"),
    ("Vendor", "vendor"),
    ("Employee", "employee"),
    ("OtherName", "name on QuickBooks' Other Names list"),
)
_ITEM_LISTS = (("Item", "item"),)
# A purchase order's lines as a bill links them: each line's id, item, quantities and whether it was closed.
ORDER_RETURNS = ("TxnID", "PurchaseOrderLineRet")
_ID_RETURNS = ("ListID", "TxnID", "EditSequence", "Name", "FullName", "RefNumber", "ExternalGUID")


class QbxmlCodec:
    """Encodes batches into messages and decodes answers into outcomes for one tenant at a time."""

    @property
    def profile(self) -> EditionProfile:
        return PROFILE

    def encode(
        self,
        batch: Batch,
        settings: SyncSettings,
        *,
        message_set_id: str,
        sales_tax_codes: SalesTaxCodes | None,
        order_lines: Mapping[str, Sequence[OrderLine]],
    ) -> Encoded:
        requests: list[Any] = []
        entries: list[ExchangeEntry] = []
        refused: dict[str, Failure] = {}

        def add(request: Any, write: Write, asked: Asked, op: Op) -> None:
            requests.append(request)
            entries.append(_entry(request, write, asked, op))

        def next_id() -> str:
            return str(len(requests) + 1)

        for write in batch.writes:
            order_id = getattr(write.model, "purchase_order_id", None)
            lines = (
                None
                if order_id is None
                else order_lines.get(write.ids.get(ref_key("purchase_order", order_id), ""))
            )
            try:
                request = to_qbxml(
                    write,
                    settings,
                    tenant_id=batch.tenant_id,
                    request_id=next_id(),
                    sales_tax_codes=sales_tax_codes,
                    purchase_order_lines=lines,
                )
            except ValueError as error:  # a bill whose order's lines were not read, among others
                refused[write.record.key] = Failure("not_sent", f"It could not be written for QuickBooks "
                                                    f"Desktop: {error}", ("send_again",))  # fmt: skip
                continue
            if isinstance(request, Failure):
                refused[write.record.key] = request
                continue
            add(request, write, Asked.WRITE, _op(write))
        for write in batch.look_ups:
            add(_look_up(write, next_id()), write, Asked.LOOK_UP, Op.QUERY)
        for write in batch.rereads:
            add(_reread(write, next_id()), write, Asked.REREAD, Op.QUERY)
        # Who holds each name: one query per list for all the batch's names (FullName repeated).
        for lists, writes in (
            (_ITEM_LISTS, [w for w in batch.name_holders if w.record.record_type == "item"]),
            (_PEOPLE_LISTS, [w for w in batch.name_holders if w.record.record_type != "item"]),
        ):
            if not writes:
                continue
            names = list(dict.fromkeys(w.name or "" for w in writes))
            for entity, reported in lists:
                query = rq.list_query(entity, next_id(), full_names=names, include=_ID_RETURNS)
                requests.append(query)
                entries.extend(_entry(query, w, Asked.NAME_HOLDERS, Op.QUERY, reported) for w in writes)
        message = envelope.message(requests, new_message_set_id=message_set_id) if requests else ""
        return Encoded(message, tuple(entries), refused)

    def encode_payments(self, since: datetime, *, message_set_id: str, iterator_id: str | None) -> Encoded:
        if iterator_id is None:  # the first page, and the deletions once
            requests = list(
                pay.payment_queries(
                    since, utc_offset=PAYMENTS_OFFSET, payments_request_id="1", deleted_request_id="2"
                )
            )
        else:
            requests = [pay.payment_query("1", since, utc_offset=PAYMENTS_OFFSET, iterator_id=iterator_id)]
        entries = tuple(
            ExchangeEntry(r.get("requestID"), Asked.PAYMENTS, "payment", "", 0, "", Op.QUERY.value)
            for r in requests
        )
        return Encoded(envelope.message(requests, new_message_set_id=message_set_id), entries, {})

    def encode_order_reads(self, order_ids: Sequence[str], *, message_set_id: str) -> Encoded:
        query = rq.txn_query(
            "PurchaseOrder", "1", txn_ids=list(order_ids), include_line_items=True, include=ORDER_RETURNS
        )
        entries = tuple(
            ExchangeEntry(
                "1", Asked.ORDER_LINES, "purchase_order", "", 0, "", Op.QUERY.value, entity=order_id
            )
            for order_id in order_ids
        )
        return Encoded(envelope.message([query], new_message_set_id=message_set_id), entries, {})

    def decode_order_reads(self, entries: Sequence[ExchangeEntry], answer: str) -> dict[str, list[OrderLine]]:
        read = read_message(answer)  # QbxmlReadError is a ValueError
        found: dict[str, list[OrderLine]] = {entry.entity: [] for entry in entries}
        for entry in {e.request_id for e in entries}:
            response = read.response(entry)
            if response is None:
                raise ValueError("QuickBooks' answer lacks the purchase orders asked for")
            for ret in response.rets:
                if ret.txn_id in found:
                    found[ret.txn_id] = list(order_lines(ret))
        return found

    def decode_payments(self, entries: Sequence[ExchangeEntry], answer: str, since: datetime) -> PaymentsRead:
        read = read_message(answer)  # QbxmlReadError is a ValueError
        first, *rest = [entry.request_id for entry in entries]
        payments_page = read.response(first)
        if payments_page is None or fault_of(payments_page.status, Op.QUERY) is not None:
            status = payments_page.status if payments_page else None
            raise ValueError(f"QuickBooks did not read the payments: {status}")
        deleted_page = read.response(rest[0]) if rest else None
        responses = [payments_page] + ([deleted_page] if deleted_page is not None else [])
        remaining = payments_page.iterator_remaining_count
        return PaymentsRead(
            tuple(pay.received_payment(ret) for ret in payments_page.rets if ret.kind == pay.PAYMENT),
            tuple(pay.deleted_payments(deleted_page)) if deleted_page is not None else (),
            pay.latest_modified(responses, since),
            payments_page.iterator_id if remaining else None,
        )

    @property
    def list_queries(self) -> Mapping[str, tuple[ListType, ...]]:
        return {query: fed for query, (fed, _) in ls.QUERIES.items()}

    def encode_lists(
        self, asks: Sequence[ListAsk], *, message_set_id: str, deleted_since: datetime | None, deletions: bool
    ) -> Encoded:
        requests = [
            ls.list_query(ask, str(number), utc_offset=PAYMENTS_OFFSET)
            for number, ask in enumerate(asks, start=1)
        ]
        queries = [ask.query for ask in asks]
        if deletions:
            requests.append(
                ls.deleted_query(queries, str(len(requests) + 1), deleted_since, utc_offset=PAYMENTS_OFFSET)
            )
            queries.append(ls.DELETIONS)
        entries = tuple(
            ExchangeEntry(r.get("requestID"), Asked.LISTS, "", "", 0, "", Op.QUERY.value, entity=query)
            for r, query in zip(requests, queries, strict=True)
        )
        return Encoded(envelope.message(requests, new_message_set_id=message_set_id), entries, {})

    def decode_lists(self, entries: Sequence[ExchangeEntry], answer: str) -> ListsAnswer:
        return ls.read_answer(entries, answer)

    def decode(self, batch: Batch, entries: Sequence[ExchangeEntry], answer: str) -> Outcomes:
        try:
            read = read_message(answer)
        except QbxmlReadError as error:
            log.warning("QuickBooks' answer cannot be read", extra={"reason": str(error)[:300]})
            return Outcomes(
                fault=Fault(
                    FaultAction.OUTCOME_UNKNOWN,
                    "unreadable_answer",
                    "QuickBooks' answer could not be read; what it did is looked up",
                ),
                maybe_applied=True,
            )
        writes = {
            w.record.key: w for w in (*batch.writes, *batch.look_ups, *batch.rereads, *batch.name_holders)
        }
        written: dict[str, WriteResult] = {}
        found: dict[str, Found | None] = {}
        current: dict[str, Found | None] = {}
        holders: dict[str, list[Found]] = {}
        asked_holders: set[str] = set()
        for entry in entries:
            key = f"{entry.record_type}/{entry.record_id}"
            write = writes.get(key)
            response = read.response(entry.request_id)
            if write is None or response is None:
                continue
            fault = fault_of(response.status, Op(entry.op))
            if entry.asked is Asked.WRITE:
                written[key] = _written(key, response, fault)
            elif fault is not None:  # a question QuickBooks refused: asked again in the next round
                log.warning(
                    "QuickBooks refused a question",
                    extra={
                        "record_type": entry.record_type,
                        "record_id": entry.record_id,
                        "qb_status": response.status.code,
                        "asked": entry.asked.value,
                    },
                )
            elif entry.asked is Asked.LOOK_UP:
                found[key] = _ours(batch.tenant_id, write, response.rets)
            elif entry.asked is Asked.REREAD:
                current[key] = _found(write.record.record_type, response.rets[0]) if response.rets else None
            else:  # the query asked for every name of the batch: this entry's name's holders
                asked_holders.add(entry.name)
                wanted = entry.name.casefold()
                holders.setdefault(entry.name, []).extend(
                    _found(entry.entity, ret, ret.full_name or ret.name or "")
                    for ret in response.rets
                    if (ret.full_name or ret.name or "").casefold() == wanted
                )
        return Outcomes(
            written=written,
            found=found,
            current=current,
            holders={name: tuple(holders.get(name, ())) for name in asked_holders},
        )


def _entry(request: Any, write: Write, asked: Asked, op: Op, entity: str = "") -> ExchangeEntry:
    record = write.record
    return ExchangeEntry(
        request.get("requestID"),
        asked,
        record.record_type,
        record.record_id,
        record.revision,
        record.state.value,
        op.value,
        name=write.name or "",
        entity=entity,
    )


def _op(write: Write) -> Op:
    if write.record.operation is Operation.DELETE:
        return Op.REMOVE
    return Op.ADD if write.record.quickbooks_id is None else Op.MOD


def _entity(write: Write) -> tuple[str, bool]:
    """The query a record's object is read with, and whether it is a list (else a transaction)."""
    record_type = write.record.record_type
    if record_type == "item":
        return "Item", True
    if record_type in _LIST_ENTITIES:
        return _LIST_ENTITIES[record_type], True
    return TXN_TYPES[record_type], False


def _look_up(write: Write, request_id: str) -> Any:
    entity, is_list = _entity(write)
    record, model = write.record, write.model
    since = _company_time(record.updated_at - LOOK_BACK)
    if is_list:
        if (
            isinstance(model, Customer) and model.parent_id is not None
        ):  # a job's FullName is its parent's too
            return rq.list_query(
                entity, request_id, active_status="All", modified_from=since, include=_ID_RETURNS
            )
        return rq.list_query(entity, request_id, full_names=[write.name or ""], include=_ID_RETURNS)
    number = getattr(model, "doc_number", None) or getattr(model, "reference_number", None)
    if number:
        return rq.txn_query(entity, request_id, ref_numbers=[number], include=_ID_RETURNS)
    return rq.txn_query(entity, request_id, modified_from=since, include=_ID_RETURNS)


def _reread(write: Write, request_id: str) -> Any:
    entity, is_list = _entity(write)
    quickbooks_id = write.record.quickbooks_id or ""
    if is_list:
        return rq.list_query(entity, request_id, list_ids=[quickbooks_id], include=_ID_RETURNS)
    return rq.txn_query(entity, request_id, txn_ids=[quickbooks_id], include=_ID_RETURNS)


def _company_time(at: datetime) -> datetime:
    """A filter's time, as QuickBooks compares it with the company's local clock. The offset is not known, so
    the UTC time is given and the look-back margin (a day) covers every time zone."""
    return at.astimezone(UTC).replace(tzinfo=None)


def _written(key: str, response: Response, fault: Fault | None) -> WriteResult:
    if fault is not None:
        return WriteResult(key, fault=fault)
    ret = response.rets[0] if response.rets else None
    if (
        ret is None
    ):  # TxnDel and TxnVoid answer with the TxnID in the response itself; a removal of what is gone
        return WriteResult(key, quickbooks_id=response.node.text_of("TxnID"))
    return WriteResult(key, quickbooks_id=ret.id, quickbooks_version=ret.edit_sequence)


def _ours(tenant_id: str, write: Write, rets: Sequence[Ret]) -> Found | None:
    """The object an earlier create of this record made: the one carrying its ExternalGUID."""
    record = write.record
    guid = external_guid(tenant_id, record.record_type, record.record_id, record.generation).lower()
    for ret in rets:
        if (ret.external_guid or "").lower() == guid:
            return _found(record.record_type, ret)
    return None


def _found(entity: str, ret: Ret, name: str = "") -> Found:
    return Found(entity, ret.id or "", ret.edit_sequence or "", name)


__all__ = ["BATCH_MAX", "PROFILE", "QbxmlCodec"]
