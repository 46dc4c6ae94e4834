"""The `Books` port on QuickBooks Online: writes as one `/batch`, questions as queries, payments read back.

- `send` carries one batch the engine planned. Writes go as one `/batch` with the batch's request id; an
  answer lost on the way is asked for again at once with the same id (QuickBooks answers a repeated requestid
  with its first result, NOTES §3.4), twice at most. Questions (look-ups, re-reads, who holds a name) go as
  queries, 30 to a `/batch`: re-reads one query per entity (`Id IN (...)`), name holders four queries for
  every name asked (`DisplayName IN (...)`, `Name IN (...)`). Whatever goes wrong comes back as a `Fault`
  (qbo_faults.fault_of): the engine never sees Online's statuses, codes or OAuth errors.

- `write` maps each record (qbo_mapping) and sends the mapped ones as one batch of at most 30 items carrying
  the caller's requestid (at most 36 characters in a batch, bId at most 10: NOTES §3.4). Item `bId`s are the
  writes' positions, so a repeated requestid answered with the first response still pairs each answer with
  its write. A record whose account, term or payment method QuickBooks lacks is never sent: its result
  carries the problem. A fault of one item is that write's fault; a fault of the whole request propagates.
- The company's accounts, terms and payment methods are read (one query each, inactive ones included, in one
  batch) only when a write names one or needs a default account, then kept per tenant for `lists_ttl`; a name
  missing from lists read earlier makes them be read once more before the record is failed.
- `find` looks up what an unconfirmed create may have made: names by DisplayName or Name (inactive ones
  too), transactions by DocNumber, or else by customer or vendor, date and amount; only a single match counts.
- `read_payment` and `changed_payments` (Change Data Capture) bring payments back for the host app.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from qbsync.adapters.clock import SystemClock
from qbsync.adapters.qbo_faults import NOT_FOUND, QboFaultError, QboOutcomeUnknownError, fault_of
from qbsync.adapters.qbo_http import QboClient, json_fault
from qbsync.adapters.qbo_mapping import (
    ENTITIES,
    Lists,
    QboWrite,
    needs_lists,
    payment_from_qbo,
    qbo_time,
    to_qbo,
)
from qbsync.domain.payments import ReceivedPayment
from qbsync.domain.ports import Clock
from qbsync.domain.records import (
    RECORD_TYPES,
    Bill,
    CreditMemo,
    Customer,
    Employee,
    Invoice,
    Item,
    NameGroup,
    Payment,
    PurchaseOrder,
    Vendor,
)
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

BATCH_MAX = 30  # NOTES §3.4
# A run in the worker: 30 writes a request; a lease longer than the worker's timeout, so a crashed run's
# lapses by itself; batches started for 50 seconds, then the worker asks for the next run.
PROFILE = EditionProfile(
    batch_max=BATCH_MAX, lease=timedelta(minutes=3), run_budget=timedelta(seconds=50), edition=Edition.QBO
)
UNKNOWN_RETRIES = 2  # the same request, same requestid, sent again at once after a lost answer
BID_MAX = 10  # with a requestid (NOTES §3.4)
BATCH_REQUEST_ID_MAX = 36  # NOTES §3.4, §3.6
QUERY_PAGE = 1000  # MAXRESULTS at most 1000 (NOTES §3.2)
CDC_MAX_OBJECTS = 1000  # per answer, without paging (NOTES §3.3)
CDC_REACH = timedelta(days=29)  # Change Data Capture looks back 30 days at most (NOTES §3.3); a day's margin
LISTS_TTL = timedelta(minutes=5)
ITEM_FAULT_STATUS = 400  # a batch item's fault arrives in an HTTP 200; it is what the write alone would get
# A Lists look-up that a fresh read of the lists may fix.
_STALE_LIST_CODES = frozenset({
    "unknown_account", "inactive_account", "unknown_term", "inactive_term", "unknown_payment_method",
    "inactive_payment_method",
})  # fmt: skip


class QboBooks:
    def __init__(
        self, client: QboClient, clock: Clock | None = None, lists_ttl: timedelta = LISTS_TTL
    ) -> None:
        self._client = client
        self._clock: Clock = clock or SystemClock()
        self._lists_ttl = lists_ttl
        self._lists: dict[str, tuple[datetime, Lists]] = {}
        self._lock = threading.Lock()

    @property
    def profile(self) -> EditionProfile:
        return PROFILE

    def send(self, batch: Batch, settings: SyncSettings) -> Outcomes:
        if batch.writes:
            return self._send_writes(batch, settings)
        return self._ask(batch)

    def _send_writes(self, batch: Batch, settings: SyncSettings) -> Outcomes:
        maybe_applied = False  # once an answer is lost, QuickBooks may hold the writes whatever follows
        for attempt in range(UNKNOWN_RETRIES + 1):
            try:
                results = self.write(batch.tenant_id, list(batch.writes), settings, batch.request_id)
            except Exception as error:  # noqa: BLE001 - classified; anything else is raised again
                fault = _fault(error)
            else:
                return Outcomes(written={result.key: result for result in results})
            if fault.action is FaultAction.OUTCOME_UNKNOWN:
                maybe_applied = True
                if attempt < UNKNOWN_RETRIES:
                    continue
            return Outcomes(fault=fault, maybe_applied=maybe_applied)
        raise AssertionError("unreachable: the last attempt returns")

    def _ask(self, batch: Batch) -> Outcomes:
        """The batch's questions; asked again at once when the answer is lost (a question changes nothing)."""
        for attempt in range(UNKNOWN_RETRIES + 1):
            try:
                return Outcomes(
                    found=self._look_up(batch.tenant_id, batch.look_ups),
                    current=self._reread(batch.tenant_id, batch.rereads),
                    holders=self._holders(batch.tenant_id, [w.name or "" for w in batch.name_holders]),
                )
            except Exception as error:  # noqa: BLE001 - classified; anything else is raised again
                fault = _fault(error)
            if fault.action is not FaultAction.OUTCOME_UNKNOWN or attempt == UNKNOWN_RETRIES:
                return Outcomes(fault=fault)
        raise AssertionError("unreachable: the last attempt returns")

    def _look_up(self, tenant_id: str, writes: Sequence[Write]) -> dict[str, Found | None]:
        if not writes:
            return {}
        return {
            w.record.key: found for w, found in zip(writes, self.find(tenant_id, list(writes)), strict=True)
        }

    def _reread(self, tenant_id: str, writes: Sequence[Write]) -> dict[str, Found | None]:
        """Each record's object as QuickBooks has it now, one query per entity; None: deleted."""
        by_entity: dict[str, list[Write]] = {}
        for write in writes:
            by_entity.setdefault(write.record.record_type, []).append(write)
        queries = {
            record_type: (
                ENTITIES[record_type],
                _ids_where(record_type, [w.record.quickbooks_id or "" for w in group]),
            )
            for record_type, group in by_entity.items()
        }
        rows = self._queries_chunked(tenant_id, queries)
        current: dict[str, Found | None] = {}
        for record_type, group in by_entity.items():
            found = {str(row.get("Id")): _found(record_type, row) for row in rows[record_type]}
            for write in group:
                current[write.record.key] = found.get(write.record.quickbooks_id or "")
        return current

    def _holders(self, tenant_id: str, names: Sequence[str]) -> dict[str, tuple[Found, ...]]:
        """Who holds each name: customers, vendors and employees by DisplayName, items by Name, inactive
        ones included; four queries for every NAMES_PER_QUERY names."""
        unique = list(dict.fromkeys(n for n in names if n))
        queries: dict[str, tuple[str, str]] = {}
        for start in range(0, len(unique), NAMES_PER_QUERY):
            listed = ", ".join(quote(n) for n in unique[start : start + NAMES_PER_QUERY])
            for record_type, (entity, name_field) in _HOLDER_LISTS.items():
                where = f"{name_field} IN ({listed}) AND Active IN (true,false)"
                queries[f"{record_type}:{start}"] = (entity, where)
        rows = self._queries_chunked(tenant_id, queries)
        holders: dict[str, list[Found]] = {name.casefold(): [] for name in unique}
        for key, found_rows in rows.items():
            record_type = key.split(":")[0]
            for row in found_rows:
                found = _found(record_type, row)
                if found.name.casefold() in holders:
                    holders[found.name.casefold()].append(found)
        return {name: tuple(holders[name.casefold()]) for name in unique}

    def _queries_chunked(
        self, tenant_id: str, queries: Mapping[str, tuple[str, str]]
    ) -> dict[str, list[dict[str, Any]]]:
        keys = list(queries)
        rows: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(keys), BATCH_MAX):
            rows.update(self._queries(tenant_id, {k: queries[k] for k in keys[start : start + BATCH_MAX]}))
        return rows

    # ------------------------------------------------------------------------------------------ writes

    def write(
        self, tenant_id: str, writes: list[Write], settings: SyncSettings, request_id: str
    ) -> list[WriteResult]:
        """One batch of the mapped writes. A deletion of a record QuickBooks never had sends nothing and comes
        back as done (no Id): there is nothing to void, delete or deactivate."""
        if len(writes) > BATCH_MAX:
            raise ValueError(f"a batch carries at most {BATCH_MAX} writes, not {len(writes)}")
        _check_request_id(request_id)
        mapped = self._map(tenant_id, writes, settings)
        sent = {_bid(index): m for index, m in enumerate(mapped) if isinstance(m, QboWrite)}
        answers: dict[str, Mapping[str, Any]] = {}
        if sent:
            items = [m.batch_item(bid) for bid, m in sent.items()]
            answers = self._batch(tenant_id, items, request_id)
            missing = sorted(set(sent) - set(answers))
            if missing:  # an answer that is not about what was sent: nothing is known of those writes
                raise QboOutcomeUnknownError(f"the batch answer has no items {', '.join(missing)}")
        results: list[WriteResult] = []
        for index, (write, item) in enumerate(zip(writes, mapped, strict=True)):
            key = write.record.key
            if item is None:
                results.append(WriteResult(key))
            elif isinstance(item, Failure):
                fault = Fault(FaultAction.FIX_RECORD, item.code, item.message, item.field, None, item.actions)
                results.append(WriteResult(key, fault=fault))
            else:
                results.append(_write_result(key, item.entity, answers[_bid(index)]))
        return results

    def _map(
        self, tenant_id: str, writes: list[Write], settings: SyncSettings
    ) -> list[QboWrite | Failure | None]:
        def mapped_with(lists: Lists) -> list[QboWrite | Failure | None]:
            return [_mapped(write, lists, settings) for write in writes]

        if not any(needs_lists(write, settings) for write in writes):
            return mapped_with(Lists())
        lists, fresh = self._cached_lists(tenant_id)
        mapped = mapped_with(lists)
        if not fresh and any(isinstance(m, Failure) and m.code in _STALE_LIST_CODES for m in mapped):
            mapped = mapped_with(self._load_lists(tenant_id))  # added or reactivated in QuickBooks since
        return mapped

    # ------------------------------------------------------------------------------------------ lists

    def lists(self, tenant_id: str) -> Lists:
        """The company's accounts, terms and payment methods, as last read (at most `lists_ttl` ago)."""
        return self._cached_lists(tenant_id)[0]

    def payment_method_name(self, tenant_id: str, quickbooks_id: str) -> str | None:
        lists, fresh = self._cached_lists(tenant_id)
        name = lists.payment_method_name(quickbooks_id)
        if name is None and not fresh:
            name = self._load_lists(tenant_id).payment_method_name(quickbooks_id)
        return name

    def _cached_lists(self, tenant_id: str) -> tuple[Lists, bool]:
        """(lists, whether they were read just now)."""
        with self._lock:
            cached = self._lists.get(tenant_id)
        if cached is not None and self._clock.now() - cached[0] < self._lists_ttl:
            return cached[1], False
        return self._load_lists(tenant_id), True

    def _load_lists(self, tenant_id: str) -> Lists:
        every = "Active IN (true,false)"
        found = self._queries(
            tenant_id,
            {"accounts": ("Account", every), "terms": ("Term", every), "methods": ("PaymentMethod", every)},
        )
        lists = Lists.from_qbo(found["accounts"], found["terms"], found["methods"])
        with self._lock:
            self._lists[tenant_id] = (self._clock.now(), lists)
        return lists

    # ------------------------------------------------------------------------------------------ look-ups

    def find(self, tenant_id: str, writes: list[Write]) -> list[Found | None]:
        """One batch of queries (30 at a time) for what earlier, unconfirmed creates of these writes made."""
        found: list[Found | None] = [None] * len(writes)
        asked = [(index, query) for index, w in enumerate(writes) if (query := _lookup(w)) is not None]
        for start in range(0, len(asked), BATCH_MAX):
            chunk = asked[start : start + BATCH_MAX]
            rows = self._queries(tenant_id, {str(index): query for index, query in chunk})
            for index, _query in chunk:
                found[index] = _pick(writes[index], rows[str(index)])
        return found

    def read(self, tenant_id: str, record_type: str, quickbooks_id: str) -> Found | None:
        entity = ENTITIES.get(record_type)
        if entity is None:
            raise ValueError(f"{record_type!r} is not a record type QuickBooks Online syncs")
        body = self._get(tenant_id, entity, quickbooks_id)
        return None if body is None else _found(record_type, body)

    def find_name(self, tenant_id: str, name: str) -> list[Found]:
        """One batch of four queries: the people by DisplayName, the items by Name, inactive ones included."""
        every = "AND Active IN (true,false)"
        found = self._queries(
            tenant_id,
            {
                "customer": ("Customer", f"DisplayName = {quote(name)} {every}"),
                "vendor": ("Vendor", f"DisplayName = {quote(name)} {every}"),
                "employee": ("Employee", f"DisplayName = {quote(name)} {every}"),
                "item": ("Item", f"Name = {quote(name)} {every}"),
            },
        )
        return [_found(record_type, row) for record_type, rows in found.items() for row in rows]

    # ------------------------------------------------------------------------------------------ payments back

    def read_payment(self, tenant_id: str, quickbooks_id: str) -> ReceivedPayment | None:
        body = self._get(tenant_id, "Payment", quickbooks_id)
        return None if body is None else payment_from_qbo(body)

    def changed_payments(
        self, tenant_id: str, since: datetime
    ) -> tuple[list[ReceivedPayment], list[str], datetime]:
        """Payments changed since `since`, the Ids of the deleted ones, and the time to ask from next:
        QuickBooks' time of the answer, or, when the answer is full (1000 objects, no paging), the newest
        change it holds, so that the next call picks up what this one could not carry. Change Data Capture
        looks back 30 days at most (NOTES §3.3: older is a fault); from further back (an initial sync's since
        date) the payments are queried by modified time instead, page by page, which cannot say what was
        deleted (a payment deleted before it was ever told needs no telling)."""
        if since.tzinfo is None:
            raise ValueError("since must carry a time zone")
        if since < self._clock.now() - CDC_REACH:
            return self._payments_modified_since(tenant_id, since)
        document = self._client.get(
            tenant_id,
            "cdc",
            {"entities": "Payment", "changedSince": since.replace(microsecond=0).isoformat()},
        )
        changed: list[ReceivedPayment] = []
        deleted: list[str] = []
        stamps: list[datetime] = []
        for row in _cdc_objects(document, "Payment"):
            stamp = qbo_time((row.get("MetaData") or {}).get("LastUpdatedTime"))
            if stamp is not None:
                stamps.append(stamp)
            if str(row.get("status") or "") == "Deleted":
                deleted.append(str(row["Id"]))
            else:
                changed.append(payment_from_qbo(row))
        server_time = qbo_time(document.get("time")) or since
        if len(changed) + len(deleted) >= CDC_MAX_OBJECTS and stamps:
            server_time = max(stamps)
        return changed, deleted, server_time

    def _payments_modified_since(
        self, tenant_id: str, since: datetime
    ) -> tuple[list[ReceivedPayment], list[str], datetime]:
        where = f"MetaData.LastUpdatedTime >= {quote(since.replace(microsecond=0).isoformat())}"
        rows: list[dict[str, Any]] = []
        answered = since
        while True:
            document = self._client.query(tenant_id, select("Payment", where, start=1 + len(rows)))
            page = _rows(document["QueryResponse"], "Payment")
            rows += page
            answered = qbo_time(document.get("time")) or answered
            if len(page) < QUERY_PAGE:
                return [payment_from_qbo(row) for row in rows], [], answered

    # ------------------------------------------------------------------------------------------ plumbing

    def _get(self, tenant_id: str, entity: str, quickbooks_id: str) -> dict[str, Any] | None:
        """The entity by Id; None when QuickBooks answers 610 (deleted) or a deleted stub."""
        try:
            document = self._client.get(tenant_id, f"{entity.lower()}/{quickbooks_id}")
        except QboFaultError as fault:
            if NOT_FOUND in fault.codes:
                return None
            raise
        body = _entity(document, entity)
        if body is None:
            raise QboOutcomeUnknownError(f"reading {entity} {quickbooks_id}: the answer holds no {entity}")
        if str(body.get("status") or "") == "Deleted":
            return None
        return body

    def _batch(self, tenant_id: str, items: Sequence[Mapping[str, Any]], request_id: str) -> dict[str, Any]:
        """Send one batch; its item answers by bId."""
        if not 0 < len(items) <= BATCH_MAX:
            raise ValueError(f"a batch carries 1 to {BATCH_MAX} items, not {len(items)}")
        bids = [str(item.get("bId", "")) for item in items]
        if any(not 0 < len(bid) <= BID_MAX for bid in bids) or len(set(bids)) != len(bids):
            raise ValueError(f"each batch item needs its own bId of 1 to {BID_MAX} characters")
        _check_request_id(request_id)
        document = self._client.post(
            tenant_id, "batch", {"BatchItemRequest": list(items)}, request_id=request_id
        )
        answers = document.get("BatchItemResponse")
        if not isinstance(answers, list):
            raise QboOutcomeUnknownError("the batch answer has no BatchItemResponse")
        return {str(a["bId"]): a for a in answers if isinstance(a, Mapping) and a.get("bId") is not None}

    def _queries(
        self, tenant_id: str, queries: Mapping[str, tuple[str, str]]
    ) -> dict[str, list[dict[str, Any]]]:
        """Several queries in one batch (each with every page: a full page is followed by the next ones)."""
        keys = list(queries)
        items = [
            {"bId": _bid(index), "Query": select(*queries[key], start=1)} for index, key in enumerate(keys)
        ]
        # A read changes nothing: a fresh requestid, so that no earlier answer is given again.
        answers = self._batch(tenant_id, items, uuid.uuid4().hex)
        found: dict[str, list[dict[str, Any]]] = {}
        for index, key in enumerate(keys):
            entity, where = queries[key]
            answer = answers.get(_bid(index))
            if answer is None:
                raise QboOutcomeUnknownError(f"the batch answer has no item {_bid(index)}")
            if answer.get("Fault"):
                raise json_fault(ITEM_FAULT_STATUS, answer["Fault"])
            rows = _rows(answer.get("QueryResponse"), entity)
            if len(rows) >= QUERY_PAGE:
                rows += self._query_all(tenant_id, entity, where, start=1 + len(rows))
            found[key] = rows
        return found

    def _query_all(self, tenant_id: str, entity: str, where: str, start: int = 1) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while True:
            page = _rows(
                self._client.query(tenant_id, select(entity, where, start=start))["QueryResponse"], entity
            )
            rows += page
            if len(page) < QUERY_PAGE:
                return rows
            start += len(page)


# ---------------------------------------------------------------------------------------------- helpers


def _mapped(write: Write, lists: Lists, settings: SyncSettings) -> QboWrite | Failure | None:
    """The batch item of one write; None when there is nothing to send. A record that cannot be mapped fails
    on its own with the reason: one record's data never stops the batch (or the tenant's sync)."""
    if write.record.operation is Operation.DELETE and write.record.quickbooks_id is None:
        return None
    try:
        return to_qbo(write, lists, settings)
    except Exception as error:  # isolated to this record, logged with its trace
        log.exception(
            "a record could not be mapped",
            extra={"record_type": write.record.record_type, "record_id": write.record.record_id},
        )
        return Failure(
            "mapping_failed",
            f"It could not be turned into a QuickBooks Online request ({type(error).__name__}: "
            f"{str(error)[:300]}). Edit it and push it again.",
            ("edit",),
        )


NAMES_PER_QUERY = 30
# The lists a name can be held in (their record types' name groups), and the field Online keeps it in.
_HOLDER_LISTS = {
    record_type: (ENTITIES[record_type], "DisplayName" if spec.name_group is NameGroup.PEOPLE else "Name")
    for record_type, spec in RECORD_TYPES.items()
    if spec.name_group is not None
}


def _fault(error: Exception) -> Fault:
    fault = fault_of(error)
    if fault is None:
        raise error
    log.info("QuickBooks call did not succeed", extra={"action": fault.action.value, "code": fault.code})
    return fault


def _ids_where(record_type: str, ids: Sequence[str]) -> str:
    where = f"Id IN ({', '.join(quote(i) for i in ids)})"
    return f"{where} AND Active IN (true,false)" if record_type in _HOLDER_LISTS else where


def _lookup(write: Write) -> tuple[str, str] | None:
    """The query that finds what a create of this write made: by name for name lists; by DocNumber, or by
    the customer (vendor) and date, for transactions. None when it cannot exist (its party is unknown)."""
    record_type, model = write.record.record_type, write.model
    every = "AND Active IN (true,false)"
    match model:
        case Customer() | Vendor() | Employee():
            return ENTITIES[record_type], f"DisplayName = {quote(write.name or model.display_name)} {every}"
        case Item():
            return "Item", f"Name = {quote(write.name or model.name)} {every}"
        case Invoice() | CreditMemo() | PurchaseOrder() | Bill() | Payment():
            party_field, party = _party(write)
            if party is None:  # the customer or vendor is not in QuickBooks: neither can this be
                return None
            entity = ENTITIES[record_type]
            doc_number = None if isinstance(model, Payment) else model.doc_number
            if doc_number is not None:
                return entity, f"DocNumber = {quote(doc_number)}"
            where = f"{party_field} = {quote(party)}"
            if model.txn_date is not None:
                where += f" AND TxnDate = {quote(model.txn_date.isoformat())}"
            return entity, where
        case _:
            raise ValueError(f"{type(model).__name__} is not a canonical record")


def _party(write: Write) -> tuple[str, str | None]:
    model = write.model
    if isinstance(model, PurchaseOrder | Bill):
        return "VendorRef", write.ids.get(ref_key("vendor", model.vendor_id))
    assert isinstance(model, Invoice | CreditMemo | Payment)
    return "CustomerRef", write.ids.get(ref_key("customer", model.customer_id))


def _pick(write: Write, rows: list[dict[str, Any]]) -> Found | None:
    """The one row that is this write's object; None when there is none, or more than one alike."""
    record_type, model = write.record.record_type, write.model
    if not isinstance(model, Invoice | CreditMemo | PurchaseOrder | Bill | Payment):
        return _only(rows, record_type)
    party_field, party = _party(write)
    doc_number = None if isinstance(model, Payment) else model.doc_number
    total = model.total_amount if isinstance(model, Payment) else model.total
    candidates = [row for row in rows if _ref(row.get(party_field)) == party]
    if doc_number is None or len(candidates) > 1:
        candidates = [row for row in candidates if _matches(row, model, total)]
    if isinstance(model, Payment) and model.reference_number is not None and len(candidates) > 1:
        candidates = [row for row in candidates if row.get("PaymentRefNum") == model.reference_number]
    return _only(candidates, record_type)


def quote(text: str) -> str:
    r"""A query string literal: quotes escaped as \' (NOTES §3.2), and so the escape character itself."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def select(entity: str, where: str, *, start: int = 1) -> str:
    condition = f" WHERE {where}" if where else ""
    # Not SQL: QuickBooks' query language, its values quoted by `quote`.
    return f"SELECT * FROM {entity}{condition} STARTPOSITION {start} MAXRESULTS {QUERY_PAGE}"  # noqa: S608


def _bid(index: int) -> str:
    return f"b{index}"


def _check_request_id(request_id: str) -> None:
    if not 0 < len(request_id) <= BATCH_REQUEST_ID_MAX:
        raise ValueError(f"a batch requestid has 1 to {BATCH_REQUEST_ID_MAX} characters")


def _write_result(key: str, entity: str, answer: Mapping[str, Any]) -> WriteResult:
    if answer.get("Fault"):
        return WriteResult(key, fault=fault_of(json_fault(ITEM_FAULT_STATUS, answer["Fault"])))
    body = _entity(answer, entity)
    if body is None or body.get("Id") is None:
        raise QboOutcomeUnknownError(f"the batch answer for {key} holds neither a {entity} nor a fault")
    token = body.get("SyncToken")
    return WriteResult(
        key, quickbooks_id=str(body["Id"]), quickbooks_version=None if token is None else str(token)
    )


def _entity(document: Mapping[str, Any], entity: str) -> dict[str, Any] | None:
    body = document.get(entity)
    if body is None:  # entity names are case-insensitive for QuickBooks
        body = next((v for k, v in document.items() if k.lower() == entity.lower()), None)
    return body if isinstance(body, dict) else None


def _rows(response: Any, entity: str) -> list[dict[str, Any]]:
    """The objects of a QueryResponse; an empty answer has no entity key at all."""
    if not isinstance(response, Mapping):
        return []
    rows = _entity({k: {"rows": v} for k, v in response.items()}, entity)
    found = rows["rows"] if rows is not None else []
    return [row for row in found if isinstance(row, dict)] if isinstance(found, list) else []


def _cdc_objects(document: Mapping[str, Any], entity: str) -> Iterable[dict[str, Any]]:
    for cdc in document.get("CDCResponse") or []:
        if not isinstance(cdc, Mapping):
            continue
        for response in cdc.get("QueryResponse") or []:
            yield from _rows(response, entity)


def _found(record_type: str, body: Mapping[str, Any]) -> Found:
    name = body.get("DisplayName") or body.get("Name") or ""
    token = body.get("SyncToken")
    return Found(record_type, str(body["Id"]), "" if token is None else str(token), str(name))


def _only(rows: list[dict[str, Any]], record_type: str) -> Found | None:
    return _found(record_type, rows[0]) if len(rows) == 1 else None


def _ref(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return None if value.get("value") is None else str(value["value"])
    return None


def _matches(
    row: Mapping[str, Any], model: Invoice | CreditMemo | PurchaseOrder | Bill | Payment, total: Decimal
) -> bool:
    """Same date (when the record has one) and the same amount before tax: a sales document's lines add up to
    its SubTotalLineDetail line (QuickBooks adds its own tax to TotalAmt), other documents' to TotalAmt."""
    if model.txn_date is not None and row.get("TxnDate") != model.txn_date.isoformat():
        return False
    amount: Any = row.get("TotalAmt")
    if isinstance(model, Invoice | CreditMemo):
        subtotal = next(
            (
                line.get("Amount")
                for line in row.get("Line") or []
                if line.get("DetailType") == "SubTotalLineDetail"
            ),
            None,
        )
        amount = amount if subtotal is None else subtotal
    try:
        return amount is not None and not isinstance(amount, bool) and Decimal(str(amount)) == total
    except ArithmeticError:
        return False
