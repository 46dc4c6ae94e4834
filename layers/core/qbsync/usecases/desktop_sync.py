"""QuickBooks Desktop's driver of the sync engine: a Web Connector session, one batch per message.

QuickBooks Online's worker runs `begin → (next_batch → send → settle)* → end` in one process. The Web
Connector calls in instead, and each callback may reach another Lambda, so the same run is spread over the
callbacks (QBWC Programmer's Guide ch. 2; the SOAP side is qbwc/service.py):

    authenticate        open: the tenant's run lease, taken for the session (busy when another session holds
                        it); an exchange left over from an earlier session is finished or settled first
    sendRequestXML      next_message: the next batch, its records stored `syncing`, encoded as one message;
                        the exchange is stored before the message is returned
    receiveResponseXML  take_answer: the answer is stored before it is applied, then settled; the percentage
                        done, 100 once nothing is left to send
    closeConnection     close: the lease back, and a one-line summary

Records turn `syncing` only when their message is handed to the Web Connector, so until then they can be taken
back (unpend). No duplicates when an answer never comes: the exchange stays `sent`, and the next callback or
session settles it as an unknown outcome, so the engine looks its records up (by the ExternalGUID each create
carried) before sending them again. An answer stored but not wholly applied (the Lambda stopped) is applied
again by whoever comes next; the engine's saves are conditional, so nothing is applied twice.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from pydantic import ValidationError

from qbsync.domain.desktop import (
    Asked,
    CompanyFacts,
    DesktopCodec,
    Exchange,
    ExchangeEntry,
    ExchangeState,
    ExchangeStore,
    ListAsk,
    ListsAnswer,
    Opened,
    OrderLine,
    SalesTaxCodes,
)
from qbsync.domain.ports import Clock
from qbsync.domain.qbwc import QbwcSession, QbwcSessionStore, SessionProgress, ticket_digest
from qbsync.domain.records import RecordFilter, parse_record
from qbsync.domain.settings import SettingsRepository
from qbsync.domain.sync import (
    Batch,
    Failure,
    Fault,
    FaultAction,
    Operation,
    Outcomes,
    RecordStore,
    SyncState,
    Write,
    WriteResult,
    ref_key,
)
from qbsync.usecases.payments import PaymentRelay
from qbsync.usecases.quickbooks_side import QuickBooksSide
from qbsync.usecases.settings import settings_in_force
from qbsync.usecases.sync_engine import SyncEngine, SyncRun, TenantBusyError

log = logging.getLogger(__name__)

DONE = 100
# What QuickBooks answers when it could not run the message at all: nothing of it was applied (QBWC
# Programmer's Guide pp.24, 77-78; shared/reference/qbwc/NOTES.md §1.3).
NOTHING_APPLIED = "0x80040400"
# How long a read of the company's lists keeps them fresh enough that they alone do not open a session. The
# Web Connector opens QuickBooks (and the company file) for every session whose authenticate does not answer
# "none" (QBWC Programmer's Guide pp.21-22; shared/reference/qbwc/NOTES.md §1.2), which a user at that PC
# notices: a tenant with nothing else to do gets "none", and its lists are read again at most hourly. A
# session that opens for other work reads them anyway.
LISTS_REFRESH = timedelta(hours=1)
LOST = (
    "QuickBooks' answer to the last message never arrived; what it did is looked up before anything is "
    "sent again"
)


class Advanced(Protocol):
    """A tenant's initial sync as advancing left it (domain/initial_sync.py InitialSync)."""

    @property
    def matching(self) -> bool: ...


class Advancing(Protocol):
    """What moves a tenant's initial sync on (usecases/initial_sync.py InitialSyncs)."""

    def advance(self, tenant_id: str, *, settle: bool = True) -> Advanced | None: ...


@dataclass
class DesktopSync:
    engine: SyncEngine
    codec: DesktopCodec
    exchanges: ExchangeStore
    sessions: QbwcSessionStore
    records: RecordStore
    settings: SettingsRepository
    clock: Clock
    payments: PaymentRelay
    lists: QuickBooksSide | None = None  # the mirror of the company's lists, read in every session that opens
    # The tenant's initial sync, advanced once the session's reads are done (before any record is sent: the
    # pairs it links are not created) and when the session closes.
    initial_sync: Advancing | None = None

    # ------------------------------------------------------------------ authenticate

    def open(self, session: QbwcSession, *, check_company: bool = False) -> Opened:
        """Whether this new session (not stored yet) has work, and if so, the tenant's run for it.
        `check_company`: it has, whatever is pending: QuickBooks' description of the company is wanted."""
        tenant_id = session.tenant_id
        if not check_company and not self._has_work(tenant_id):
            return Opened.NOTHING
        try:
            run = self.engine.begin(tenant_id, owner=ticket_digest(session.ticket))
        except TenantBusyError:
            return Opened.BUSY
        self._settle_left_over(run, session)
        return Opened.SESSION

    def _has_work(self, tenant_id: str) -> bool:
        for state in (SyncState.PENDING, SyncState.SYNCING):
            if self.records.in_state(tenant_id, state, 1, None).items:
                return True
        exchange = self.exchanges.current(tenant_id)
        if exchange is not None and exchange.state in (ExchangeState.SENT, ExchangeState.ANSWERED):
            return True
        _, settings = settings_in_force(self.settings, tenant_id)
        return settings.sync_payments_from_quickbooks or self._lists_due(tenant_id)

    def _lists_due(self, tenant_id: str) -> bool:
        """Whether the lists alone open a session: one of them is not loaded yet (never read, or a first load
        cut short), or was last read LISTS_REFRESH ago or more."""
        if self.lists is None:
            return False
        marks = self.lists.mirror.marks(tenant_id)
        stale = self.clock.now() - LISTS_REFRESH
        for fed in self.codec.list_queries.values():
            for list_type in fed:
                mark = marks.get(list_type)
                if mark is None or not mark.loaded or mark.read_at is None or mark.read_at <= stale:
                    return True
        return False

    # ------------------------------------------------------------------ sendRequestXML

    def company_checked(self, session: QbwcSession, facts: CompanyFacts) -> QbwcSession:
        """The first sendRequestXML's description of QuickBooks was accepted: keep what the codec needs."""
        taxable = facts.taxable_code
        progress = replace(
            session.progress,
            company_checked=True,
            taxable_code=taxable,
            non_taxable_code=facts.non_taxable_code if taxable else None,
        )
        self.sessions.save_progress(session.ticket, progress)
        return replace(session, progress=progress)

    def refused(self, session: QbwcSession) -> None:
        """qbsync cannot work with this session's QuickBooks: the tenant's run is given back at once, so that
        a session with a QuickBooks it can work with need not wait for this one to close."""
        self.engine.runs.release(session.tenant_id, ticket_digest(session.ticket))

    def next_message(self, session: QbwcSession) -> str:
        """The next qbXML message for QuickBooks, or "" when nothing is left to send in this session."""
        if not session.progress.company_checked or session.progress.finished:
            return ""
        run = self._resume(session)
        if run is None:
            return ""
        self._settle_left_over(run, session)
        message, progress = self._read_message(session, run)
        if message:
            return message
        if self.initial_sync is not None:
            sync = self.initial_sync.advance(session.tenant_id, settle=False)
            if sync is not None and sync.matching:
                log.info(
                    "records wait for the initial sync's matching", extra={"tenant_id": session.tenant_id}
                )
                return ""  # the worker is matching: what it links must not be created meanwhile
        lines = _order_lines(progress)
        settings = run.settings
        while (batch := self.engine.next_batch(run)) is not None:
            exchange_id = _message_set_id()
            encoded = self.codec.encode(
                batch,
                settings,
                message_set_id=exchange_id,
                sales_tax_codes=_tax_codes(progress),
                order_lines=lines,
            )
            if encoded.refused:
                self._settle_refused(run, batch, encoded.refused)
            if not encoded.message:
                continue
            self._hand_out(replace(session, progress=progress), run, exchange_id, encoded.entries)
            log.info(
                "qbXML message handed to the Web Connector",
                extra={
                    "tenant_id": session.tenant_id,
                    "requests": len(encoded.entries),
                    "writes": len(batch.writes),
                    "chars": len(encoded.message),
                },
            )
            return encoded.message
        self.sessions.save_progress(session.ticket, replace(_counted(progress, run), finished=True))
        return ""

    def _read_message(self, session: QbwcSession, run: SyncRun) -> tuple[str, SessionProgress]:
        """The session's own reads before its records are sent: the lists, payments back, the purchase orders
        new bills link to. The next one's message, or "" and the progress once they are all done."""
        progress = session.progress
        if self.lists is not None:
            plan = _plan_of(progress) or self._list_plan(session.tenant_id)
            if plan.queries:
                return self._lists_message(session, run, plan), progress
            progress = replace(progress, lists=plan.text())
        if not progress.payments_read:
            message = self._payments_message(replace(session, progress=progress), run)
            if message:
                return message, progress
            progress = replace(progress, payments_read=True)
        orders = self._orders_to_read(session.tenant_id, progress)
        if orders:
            exchange_id = _message_set_id()
            encoded = self.codec.encode_order_reads(orders, message_set_id=exchange_id)
            self._hand_out(replace(session, progress=progress), run, exchange_id, encoded.entries)
            return encoded.message, progress
        return "", progress

    def _orders_to_read(self, tenant_id: str, progress: SessionProgress) -> list[str]:
        """The purchase orders (TxnIDs) whose lines new bills will link to and this session has not read:
        QuickBooks knows what of each line is still to be received, so they are read in the session that
        adds the bill."""
        ordered: set[str] = set()
        cursor: str | None = None
        while True:
            page = self.records.list(
                tenant_id, "bill", RecordFilter(frozenset({SyncState.PENDING})), 500, cursor
            )
            for bill in page.items:
                order_id = bill.data.get("purchase_order_id")
                if (
                    bill.quickbooks_id is None
                    and bill.operation is Operation.UPSERT
                    and isinstance(order_id, str)
                ):
                    ordered.add(order_id)
            cursor = page.next_cursor
            if cursor is None:
                break
        if not ordered:
            return []
        orders = self.records.get_many(
            tenant_id, [("purchase_order", order_id) for order_id in sorted(ordered)]
        )
        known = _order_lines(progress)
        return sorted(
            order.quickbooks_id
            for order in orders.values()
            if order.quickbooks_id
            and order.state in (SyncState.SYNCED, SyncState.LOCKED)
            and order.quickbooks_id not in known
        )[: self.engine.profile.batch_max]

    def _apply_order_reads(self, session: QbwcSession | None, exchange: Exchange) -> QbwcSession | None:
        """Keep the purchase orders' lines an answer brought, for this session's bills."""
        self.exchanges.close(exchange.tenant_id, exchange.exchange_id, ExchangeState.APPLIED)
        if session is None:
            return None
        try:
            read = self.codec.decode_order_reads(exchange.entries, exchange.answer or "")
        except ValueError as error:
            log.warning(
                "purchase orders could not be read",
                extra={"tenant_id": exchange.tenant_id, "reason": str(error)[:300]},
            )
            read = {entry.entity: [] for entry in exchange.entries}  # the bills go unlinked rather than never
        known = {**_order_lines(session.progress), **read}
        stored = {
            txn_id: [[line.txn_line_id, line.item_list_id, str(line.open_quantity)] for line in lines]
            for txn_id, lines in known.items()
        }
        progress = replace(session.progress, order_lines=json.dumps(stored, separators=(",", ":")))
        self.sessions.save_progress(session.ticket, progress)
        return replace(session, progress=progress)

    def _list_plan(self, tenant_id: str) -> ListPlan:
        """This session's read of the company's lists: every list query, from its lists' marks.

        A query whose lists are not all loaded reads them all (the first session after connecting, or one
        that follows a session cut short during the first load: its pages are read again, the mirror storing
        nothing twice). Otherwise it reads the entries modified since the oldest of its lists' marks.

        Every session that opens reads the lists: each list costs one query (a page per query and message
        on a first load), all in one message answered in one round trip, mostly empty; they are read before
        the session's records are sent, so that matching and the engine's look-ups before a create see what
        was added in QuickBooks since the last update. The lists alone open a session only when they are due
        (`_lists_due`): a tenant with payments back off and nothing to send gets "none" within an hour of
        the last read."""
        marks = self.lists.mirror.marks(tenant_id) if self.lists is not None else {}
        queries: dict[str, _ListRead] = {}
        for query, fed in self.codec.list_queries.items():
            read = [marks.get(list_type) for list_type in fed]
            if all(mark is not None and mark.loaded for mark in read):
                throughs = [mark.through for mark in read if mark is not None and mark.through is not None]
                queries[query] = _ListRead(since=min(throughs, default=None))
            else:
                queries[query] = _ListRead(load=True)
        starts = [q.since for q in queries.values()]
        deleted_since = None if None in starts else min(s for s in starts if s is not None)
        return ListPlan(queries, deletions=True, deleted_since=deleted_since, total=len(queries))

    def _lists_message(self, session: QbwcSession, run: SyncRun, plan: ListPlan) -> str:
        """The message reading the next page of each list query of the plan (and, with the first, the
        deletions)."""
        exchange_id = _message_set_id()
        asks = [ListAsk(query, read.since, read.iterator_id) for query, read in plan.queries.items()]
        encoded = self.codec.encode_lists(
            asks, message_set_id=exchange_id, deleted_since=plan.deleted_since, deletions=plan.deletions
        )
        progress = replace(session.progress, lists=replace(plan, deletions=False).text())
        self._hand_out(replace(session, progress=progress), run, exchange_id, encoded.entries)
        return encoded.message

    def _apply_lists(self, session: QbwcSession | None, exchange: Exchange) -> QbwcSession | None:
        """Take each page into the mirror. A query's last page moves its lists' marks (to the newest
        TimeModified of all its pages), and ends a first load; the pages before it move nothing, so that a
        session cut short reads the query again from the same mark. A page of another session's read (left
        over) is stored and moves nothing."""
        tenant_id = exchange.tenant_id
        plan = _plan_of(session.progress) if session is not None else None
        try:
            answer = self.codec.decode_lists(exchange.entries, exchange.answer or "")
        except ValueError as error:
            log.warning(
                "the lists could not be read", extra={"tenant_id": tenant_id, "reason": str(error)[:300]}
            )
            answer = ListsAnswer((), (), tuple(plan.queries) if plan else ())
        side = self.lists
        queries = dict(plan.queries) if plan is not None else {}
        if side is not None:
            for deleted in answer.deletions:
                side.take(tenant_id, deleted)
            for page in answer.pages:
                read = queries.get(page.query)
                if read is None:
                    for part in page.reads:
                        side.take(tenant_id, part)
                    continue
                newest = max((t for t in (read.newest, page.newest) if t is not None), default=None)
                last = page.iterator_id is None
                for part in page.reads:
                    side.take(tenant_id, replace(part, through=newest, ends_load=read.load) if last else part)
                if last:
                    del queries[page.query]
                else:
                    queries[page.query] = replace(read, iterator_id=page.iterator_id, newest=newest)
        for query in answer.refused:  # read again in the next session
            queries.pop(query, None)
        self.exchanges.close(tenant_id, exchange.exchange_id, ExchangeState.APPLIED)
        if session is None or plan is None:
            return session
        progress = replace(session.progress, lists=replace(plan, queries=queries).text())
        self.sessions.save_progress(session.ticket, progress)
        return replace(session, progress=progress)

    def _payments_message(self, session: QbwcSession, run: SyncRun) -> str:
        """The message reading payments back (the next page of them), or "" when there is none to read."""
        window = self.payments.window(session.tenant_id)
        if window is None:
            return ""
        exchange_id = _message_set_id()
        encoded = self.codec.encode_payments(
            window.since, message_set_id=exchange_id, iterator_id=session.progress.payments_iterator
        )
        self._hand_out(session, run, exchange_id, encoded.entries)
        return encoded.message

    def _hand_out(
        self, session: QbwcSession, run: SyncRun, exchange_id: str, entries: tuple[ExchangeEntry, ...]
    ) -> None:
        """Store the exchange, then the session's progress, before the message is returned."""
        self.exchanges.put(
            Exchange(
                session.tenant_id,
                exchange_id,
                ticket_digest(session.ticket),
                ExchangeState.SENT,
                self.clock.now(),
                entries,
            )
        )
        progress = session.progress
        self.sessions.save_progress(
            session.ticket,
            replace(
                _counted(progress, run),
                messages=progress.messages + 1,
                requests=progress.requests + len(entries),
            ),
        )

    def _settle_refused(self, run: SyncRun, batch: Batch, failures: Mapping[str, Failure]) -> None:
        writes = tuple(w for w in batch.writes if w.record.key in failures)
        outcomes = Outcomes(
            written={
                key: WriteResult(
                    key,
                    fault=Fault(FaultAction.FIX_RECORD, f.code, f.message, f.field, actions=f.actions),
                )
                for key, f in failures.items()
            }
        )
        self.engine.settle(run, Batch(batch.tenant_id, batch.request_id, writes=writes), outcomes)

    # ------------------------------------------------------------------ receiveResponseXML

    def take_answer(self, session: QbwcSession, answer: str) -> int:
        """Store QuickBooks' answer, apply it, and say how much of the session's work is done (0-100)."""
        exchange = self.exchanges.current(session.tenant_id)
        if exchange is None or exchange.ticket_digest != ticket_digest(session.ticket):
            log.warning("an answer to no message of this session", extra={"tenant_id": session.tenant_id})
            return DONE
        run = self._resume(session)
        if run is None:
            return DONE
        if self.exchanges.answer(session.tenant_id, exchange.exchange_id, answer):
            answered = replace(exchange, state=ExchangeState.ANSWERED, answer=answer)
            asked = _asked(exchange)
            if asked is Asked.PAYMENTS:
                session = self._apply_payments(session, answered) or session
            elif asked is Asked.LISTS:
                session = self._apply_lists(session, answered) or session
            elif asked is Asked.ORDER_LINES:
                session = self._apply_order_reads(session, answered) or session
            else:
                self._apply(run, answered)
        return self._percent(session, run)

    def answer_failed(self, session: QbwcSession, hresult: str, message: str) -> None:
        """QuickBooks could not run the message (receiveResponseXML with an HRESULT). With 0x80040400 nothing
        of it was applied: its records go back to pending. Otherwise what it did is not known: they are
        looked up before they are sent again. The Web Connector ends the session after this."""
        exchange = self.exchanges.current(session.tenant_id)
        if exchange is None or exchange.ticket_digest != ticket_digest(session.ticket):
            return
        if exchange.state is not ExchangeState.SENT:
            return
        run = self._resume(session)
        if run is None:
            return
        code = hresult.strip()[:20]
        said = f"QuickBooks could not process the message ({code}: {' '.join(message.split())[:200]})"
        if code.lower() == NOTHING_APPLIED:
            outcomes = Outcomes(fault=Fault(FaultAction.RETRY_LATER, code, said), maybe_applied=False)
        else:
            outcomes = Outcomes(fault=Fault(FaultAction.OUTCOME_UNKNOWN, code, said), maybe_applied=True)
        if self.exchanges.close(session.tenant_id, exchange.exchange_id, ExchangeState.LOST):
            self.engine.settle(run, self._batch(exchange), outcomes)
        self.sessions.save_progress(session.ticket, replace(_counted(session.progress, run), finished=True))

    # ------------------------------------------------------------------ closeConnection

    def close(self, session: QbwcSession) -> str:
        """Give the tenant's run back; the session's one-line summary."""
        digest = ticket_digest(session.ticket)
        progress = session.progress
        try:
            run = self.engine.resume(session.tenant_id, digest)
        except TenantBusyError:
            run = None
        if run is not None:
            self._restore(run, progress)
            self._settle_left_over(run, session, closing=True)
            progress = _counted(progress, run)
            self.engine.release(run)
            self.engine.timed(session.tenant_id, session.created_at)  # a Desktop run lasts its session
        if self.initial_sync is not None:
            self.initial_sync.advance(session.tenant_id)
        return f"qbsync: {progress.sent} sent, {progress.synced} synced, {progress.failed} failed"

    # ------------------------------------------------------------------ the run between callbacks

    def _resume(self, session: QbwcSession) -> SyncRun | None:
        try:
            run = self.engine.resume(session.tenant_id, ticket_digest(session.ticket))
        except TenantBusyError:
            log.warning(
                "the Web Connector session lost the tenant's run to another",
                extra={"tenant_id": session.tenant_id},
            )
            return None
        self._restore(run, session.progress)
        return run

    @staticmethod
    def _restore(run: SyncRun, progress: SessionProgress) -> None:
        run.sent, run.synced, run.failed, run.rounds = (
            progress.sent,
            progress.synced,
            progress.failed,
            progress.rounds,
        )
        run.unanswered_in_a_row = progress.unanswered_in_a_row
        run.deferred = set(progress.deferred)

    def _percent(self, session: QbwcSession, run: SyncRun) -> int:
        progress = _counted(session.progress, run)
        remaining = self.engine.ready(run) + (0 if progress.payments_read else 1)  # a page of payments to go
        lists_done = 0
        if self.lists is not None:  # each list query still to read counts as one
            plan = _plan_of(progress)
            total = plan.total if plan is not None else len(self.codec.list_queries)
            left = len(plan.queries) if plan is not None else total
            remaining, lists_done = remaining + left, total - left
        if remaining == 0:
            self.sessions.save_progress(session.ticket, replace(progress, finished=True))
            return DONE
        self.sessions.save_progress(session.ticket, progress)
        done = progress.synced + progress.failed + lists_done
        return min(99, (100 * done) // max(1, done + remaining))

    def _settle_left_over(self, run: SyncRun, session: QbwcSession, *, closing: bool = False) -> None:
        """Finish the tenant's last exchange if it was answered and not applied; settle it as unanswered if
        its answer never came (another session's, or this one's and the session is ending)."""
        exchange = self.exchanges.current(session.tenant_id)
        if exchange is None:
            return
        if exchange.state is ExchangeState.ANSWERED:
            asked = _asked(exchange)
            if asked is Asked.PAYMENTS:
                self._apply_payments(None, exchange)
            elif asked is Asked.LISTS:
                self._apply_lists(None, exchange)
            elif asked is Asked.ORDER_LINES:
                self._apply_order_reads(None, exchange)
            else:
                self._apply(run, exchange)
            return
        ours = exchange.ticket_digest == ticket_digest(session.ticket)
        if exchange.state is not ExchangeState.SENT or (ours and not closing):
            return
        if self.exchanges.close(session.tenant_id, exchange.exchange_id, ExchangeState.LOST):
            log.warning("an answer never came", extra={"tenant_id": session.tenant_id})
            if _asked(exchange) in (Asked.PAYMENTS, Asked.ORDER_LINES, Asked.LISTS):  # a read changed nothing
                return
            unknown = Fault(FaultAction.OUTCOME_UNKNOWN, "answer_lost", LOST)
            self.engine.settle(run, self._batch(exchange), Outcomes(fault=unknown, maybe_applied=True))

    def _apply_payments(self, session: QbwcSession | None, exchange: Exchange) -> QbwcSession | None:
        """Tell the host app of the payments a page brought back; after the last page of this session's read,
        move the cursor. A page left over from another session tells, and leaves the cursor (its read is
        started again from it)."""
        tenant_id = exchange.tenant_id
        window = self.payments.window(tenant_id)
        progress = session.progress if session is not None else None
        done = replace(progress, payments_read=True, payments_iterator=None) if progress else None
        if window is not None:
            try:
                read = self.codec.decode_payments(exchange.entries, exchange.answer or "", window.since)
            except ValueError as error:
                log.warning(
                    "payments could not be read back",
                    extra={"tenant_id": tenant_id, "reason": str(error)[:300]},
                )
            else:
                until = read.until
                if progress is not None and progress.payments_until:
                    until = max(until, datetime.fromisoformat(progress.payments_until))
                last = read.iterator_id is None
                told = self.payments.ingest(
                    tenant_id,
                    window.settings,
                    read.payments,
                    read.deleted_ids,
                    until,
                    complete=last and progress is not None,
                )
                log.info(
                    "payments read back",
                    extra={"tenant_id": tenant_id, "payments": len(read.payments), "told": told},
                )
                if progress is not None and not last:
                    done = replace(
                        progress, payments_iterator=read.iterator_id, payments_until=until.isoformat()
                    )
        self.exchanges.close(tenant_id, exchange.exchange_id, ExchangeState.APPLIED)
        if session is None or done is None:
            return session
        self.sessions.save_progress(session.ticket, done)
        return replace(session, progress=done)

    def _apply(self, run: SyncRun, exchange: Exchange) -> None:
        batch = self._batch(exchange)
        outcomes = self.codec.decode(batch, exchange.entries, exchange.answer or "")
        self.engine.settle(run, batch, outcomes)
        self.exchanges.close(exchange.tenant_id, exchange.exchange_id, ExchangeState.APPLIED)

    def _batch(self, exchange: Exchange) -> Batch:
        """The batch an exchange carried, rebuilt from its records: each as it was when the message was built
        (revision and state), so that a result is stored only if the record did not change since."""
        keys = sorted({(e.record_type, e.record_id) for e in exchange.entries})
        current = self.records.get_many(exchange.tenant_id, keys)
        parts: dict[Asked, dict[str, Write]] = {asked: {} for asked in Asked}
        for entry in exchange.entries:
            key = ref_key(entry.record_type, entry.record_id)
            record = current.get(key)
            if record is None or key in parts[entry.asked]:
                continue
            sent = record.copy()
            if record.revision != entry.revision or record.state.value != entry.state:
                sent.revision, sent.state = entry.revision, SyncState(entry.state)
            try:
                model = parse_record(sent.record_type, sent.data)
            except (ValidationError, ValueError):
                continue  # its data no longer parses: the engine's next round fails it with the reason
            parts[entry.asked][key] = Write(sent, model, {}, entry.name or None)
        return Batch(
            exchange.tenant_id,
            exchange.exchange_id,
            writes=tuple(parts[Asked.WRITE].values()),
            look_ups=tuple(parts[Asked.LOOK_UP].values()),
            rereads=tuple(parts[Asked.REREAD].values()),
            name_holders=tuple(parts[Asked.NAME_HOLDERS].values()),
        )


def _message_set_id() -> str:
    return "{" + str(uuid.uuid4()).upper() + "}"


def _asked(exchange: Exchange) -> Asked | None:
    """PAYMENTS, ORDER_LINES or LISTS for a message of the session's own reads; None for an engine batch's."""
    kinds = {entry.asked for entry in exchange.entries}
    reads = (Asked.PAYMENTS, Asked.ORDER_LINES, Asked.LISTS)
    return next((kind for kind in reads if kind in kinds), None)


@dataclass(frozen=True)
class _ListRead:
    """One list query of a session's read: all entries (`load`: a first load) or those modified `since`;
    the iterator of its next page and the newest TimeModified of its pages so far."""

    load: bool = False
    since: datetime | None = None
    iterator_id: str | None = None
    newest: datetime | None = None


@dataclass(frozen=True)
class ListPlan:
    """A session's read of the company's lists, kept in its progress: the queries still to read, whether the
    deletions are still to be asked for (with the first message) and since when, and how many queries the
    read has in all (the session's percentage counts them)."""

    queries: Mapping[str, _ListRead]
    deletions: bool
    deleted_since: datetime | None
    total: int

    def text(self) -> str:
        def iso(at: datetime | None) -> str | None:
            return None if at is None else at.isoformat()

        return json.dumps(
            {
                "queries": {
                    query: [read.load, iso(read.since), read.iterator_id, iso(read.newest)]
                    for query, read in self.queries.items()
                },
                "deletions": self.deletions,
                "deleted_since": iso(self.deleted_since),
                "total": self.total,
            },
            separators=(",", ":"),
        )


def _plan_of(progress: SessionProgress) -> ListPlan | None:
    """The session's read of the lists, or None before it began."""
    if not progress.lists:
        return None
    stored = json.loads(progress.lists)

    def at(text: str | None) -> datetime | None:
        return None if text is None else datetime.fromisoformat(text)

    return ListPlan(
        {
            query: _ListRead(bool(load), at(since), iterator_id, at(newest))
            for query, (load, since, iterator_id, newest) in stored["queries"].items()
        },
        bool(stored["deletions"]),
        at(stored["deleted_since"]),
        int(stored["total"]),
    )


def _order_lines(progress: SessionProgress) -> dict[str, list[OrderLine]]:
    if not progress.order_lines:
        return {}
    stored = json.loads(progress.order_lines)
    return {
        txn_id: [OrderLine(str(line_id), item, Decimal(quantity)) for line_id, item, quantity in lines]
        for txn_id, lines in stored.items()
    }


def _tax_codes(progress: SessionProgress) -> SalesTaxCodes | None:
    if progress.taxable_code is None:
        return None
    return SalesTaxCodes(progress.taxable_code, progress.non_taxable_code or "Non")


def _counted(progress: SessionProgress, run: SyncRun) -> SessionProgress:
    return replace(
        progress,
        sent=run.sent,
        synced=run.synced,
        failed=run.failed,
        rounds=run.rounds,
        unanswered_in_a_row=run.unanswered_in_a_row,
        deferred=tuple(sorted(run.deferred)),
    )
