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
from datetime import datetime
from decimal import Decimal

from pydantic import ValidationError

from qbsync.domain.desktop import (
    Asked,
    CompanyFacts,
    DesktopCodec,
    Exchange,
    ExchangeEntry,
    ExchangeState,
    ExchangeStore,
    Opened,
    OrderLine,
    SalesTaxCodes,
)
from qbsync.domain.ports import Clock
from qbsync.domain.qbwc import QbwcSession, QbwcSessionStore, SessionProgress, ticket_digest
from qbsync.domain.records import parse_record
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
from qbsync.usecases.settings import settings_in_force
from qbsync.usecases.sync_engine import SyncEngine, SyncRun, TenantBusyError

log = logging.getLogger(__name__)

DONE = 100
# What QuickBooks answers when it could not run the message at all: nothing of it was applied (QBWC
# Programmer's Guide pp.24, 77-78; shared/reference/qbwc/NOTES.md §1.3).
NOTHING_APPLIED = "0x80040400"
LOST = (
    "QuickBooks' answer to the last message never arrived; what it did is looked up before anything is "
    "sent again"
)


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
        return settings.sync_payments_from_quickbooks

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
        progress = session.progress
        if not progress.payments_read:
            message = self._payments_message(session, run)
            if message:
                return message
            progress = replace(progress, payments_read=True)
        orders = self._orders_to_read(session.tenant_id, progress)
        if orders:
            exchange_id = _message_set_id()
            encoded = self.codec.encode_order_reads(orders, message_set_id=exchange_id)
            self._hand_out(replace(session, progress=progress), run, exchange_id, encoded.entries)
            return encoded.message
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

    def _orders_to_read(self, tenant_id: str, progress: SessionProgress) -> list[str]:
        """The purchase orders (TxnIDs) whose lines new bills will link to and this session has not read:
        QuickBooks knows what of each line is still to be received, so they are read in the session that
        adds the bill."""
        ordered: set[str] = set()
        cursor: str | None = None
        while True:
            page = self.records.list(tenant_id, "bill", SyncState.PENDING, 500, cursor)
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
        if remaining == 0:
            self.sessions.save_progress(session.ticket, replace(progress, finished=True))
            return DONE
        self.sessions.save_progress(session.ticket, progress)
        done = progress.synced + progress.failed
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
            if _asked(exchange) in (Asked.PAYMENTS, Asked.ORDER_LINES):  # a read changed nothing
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
    """PAYMENTS or ORDER_LINES for a message of the session's own reads; None for an engine batch's."""
    kinds = {entry.asked for entry in exchange.entries}
    return next((kind for kind in (Asked.PAYMENTS, Asked.ORDER_LINES) if kind in kinds), None)


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
