"""A scriptable QuickBooks, as the sync engine sees it through the `Books` port, for the engine's own tests.

It keeps the rules the engine relies on in both editions: names unique across customers, vendors and
employees (a clash is RESOLVE_NAME_CLASH), a version per object (a stale one is REREAD_AND_REAPPLY), a
request id answered again with its first result, answers that can be lost after the writes were applied, and
whole-batch faults scripted per kind of operation. It is the `QuickBooks` world of tests/unit/engine_spec.py
(whose scenarios run against it in milliseconds, and against QuickBooks Online's adapter and sandbox in
tests/adapters/test_sync_engine_qbo.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from qbsync.domain.settings import SyncSettings
from qbsync.domain.sync import (
    Batch,
    EditionProfile,
    Fault,
    FaultAction,
    Found,
    Operation,
    Outcomes,
    Write,
    WriteResult,
)
from qbsync.domain.tenants import Edition
from tests.unit.engine_spec import KINDS_OF_OPERATION, Held, Told, WholeFault

PEOPLE = ("customer", "vendor", "employee")
PROFILE = EditionProfile(
    batch_max=30, lease=timedelta(minutes=3), run_budget=timedelta(seconds=50), edition=Edition.QBO
)

STALE = Fault(FaultAction.REREAD_AND_REAPPLY, "stale", "QuickBooks refused it: the object changed")
CLASH = Fault(FaultAction.RESOLVE_NAME_CLASH, "clash", "QuickBooks refused it: the name is in use")
# How this QuickBooks answers a whole batch, by kind of fault.
WHOLE: dict[WholeFault, Fault] = {
    WholeFault.SERVER_ERROR: Fault(
        FaultAction.RETRY_LATER, "503", "QuickBooks answered 503", "", timedelta(seconds=20)
    ),
    WholeFault.THROTTLED: Fault(
        FaultAction.RETRY_LATER, "429", "QuickBooks answered 429", "", timedelta(seconds=60)
    ),
    WholeFault.NO_ANSWER: Fault(
        FaultAction.OUTCOME_UNKNOWN, "no_answer", "QuickBooks did not answer", "", timedelta(seconds=30)
    ),
    WholeFault.RECONNECT: Fault(FaultAction.RECONNECT, "not_connected", "waits for the connection"),
    WholeFault.REFUSED: Fault(FaultAction.FIX_RECORD, "4000", "QuickBooks refused the request"),
}


@dataclass
class Entry:
    entity: str
    quickbooks_id: str
    version: str
    name: str
    amount: Decimal | None = None
    party: str | None = None
    active: bool = True


@dataclass
class FakeBooks:
    """`faults[kind]` (KINDS_OF_OPERATION) answer the next batches carrying that kind of operation as a whole,
    in order; `item_faults[name]` answer the next writes of that name; `lost` are the next write batches
    applied whose answer is lost (None: no answer; else that fault, the write maybe applied)."""

    profile: EditionProfile = PROFILE
    entries: dict[str, Entry] = field(default_factory=dict)  # by QuickBooks id
    answered: dict[str, dict[str, WriteResult]] = field(default_factory=dict)  # by request id
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    item_faults: dict[str, list[Fault]] = field(default_factory=dict)
    lost: list[Fault | None] = field(default_factory=list)
    sent: int = 0  # requests QuickBooks got
    fired: int = 0  # of them, answered with an injected fault
    die: random.Random | None = None
    lost_rate: float = 0.0
    error_rate: float = 0.0

    # ------------------------------------------------------------------ the QuickBooks world

    def enter(self, record_type: str, name: str, key: str | None = None) -> Held:
        entry = Entry(record_type, str(len(self.entries) + 1), "0", name)
        self.entries[entry.quickbooks_id] = entry
        return _held(entry)

    def change(self, record_type: str, quickbooks_id: str) -> None:
        entry = self.entries[quickbooks_id]
        assert entry.entity == record_type
        entry.version = str(int(entry.version) + 1)

    def lose_answers(self, batches: int, then: WholeFault | None = None) -> None:
        self.lost += [None if then is None else WHOLE[then]] * batches

    def fail_next(self, kind: str, fault: WholeFault) -> Told:
        assert kind in KINDS_OF_OPERATION
        self.faults.setdefault(kind, []).append(WHOLE[fault])
        return Told(WHOLE[fault].code, WHOLE[fault].retry_after)

    def flaky(self, lost: float, server_errors: float, seed: int) -> None:
        self.die, self.lost_rate, self.error_rate = random.Random(seed), lost, server_errors

    def held(self, record_type: str) -> list[Held]:
        return [_held(e) for e in self.entries.values() if e.entity == record_type]

    def requests(self) -> int:
        return self.sent

    def faults_fired(self) -> int:
        return self.fired

    # ------------------------------------------------------------------ the Books port

    def send(self, batch: Batch, settings: SyncSettings) -> Outcomes:
        self.sent += 1
        kinds = [k for k, ops in self._kinds(batch).items() if ops]
        for kind in kinds:
            if self.faults.get(kind):
                self.fired += 1
                return Outcomes(fault=self.faults[kind].pop(0))
        roll = self.die.random() if self.die else 1.0
        if roll < self.error_rate:
            self.fired += 1
            return Outcomes(fault=WHOLE[WholeFault.SERVER_ERROR])
        if batch.writes:
            if roll < self.error_rate + self.lost_rate:
                self.lost.append(None)
            return self._write(batch)
        return Outcomes(
            found={w.record.key: self._find(w) for w in batch.look_ups},
            current={w.record.key: self._current(w) for w in batch.rereads},
            holders={w.name or "": self.holders(w.name or "") for w in batch.name_holders},
        )

    @staticmethod
    def _kinds(batch: Batch) -> dict[str, tuple[Write, ...]]:
        return {
            "write": batch.writes,
            "look_up": batch.look_ups,
            "reread": batch.rereads,
            "name_holders": batch.name_holders,
        }

    def _write(self, batch: Batch) -> Outcomes:
        if batch.request_id not in self.answered:
            self.answered[batch.request_id] = {w.record.key: self._apply(w) for w in batch.writes}
        if self.lost:
            self.fired += 1
            told = self.lost.pop(0)
            return Outcomes(fault=told or WHOLE[WholeFault.NO_ANSWER], maybe_applied=True)
        return Outcomes(written=self.answered[batch.request_id])

    def _apply(self, write: Write) -> WriteResult:
        record = write.record
        name = self.name_of(write)
        if self.item_faults.get(name):
            return WriteResult(record.key, fault=self.item_faults[name].pop(0))
        if record.operation is Operation.DELETE:
            if record.quickbooks_id is None:  # QuickBooks never had it: nothing to void
                return WriteResult(record.key)
            entry = self.entries[record.quickbooks_id]
            entry.active, entry.amount = False, None if entry.amount is None else Decimal(0)
            entry.version = str(int(entry.version) + 1)
            return WriteResult(record.key, entry.quickbooks_id, entry.version)
        if record.record_type in PEOPLE and any(
            e.name == name and e.entity in PEOPLE and e.quickbooks_id != record.quickbooks_id
            for e in self.entries.values()
        ):
            return WriteResult(record.key, fault=CLASH)
        if record.quickbooks_id is None:
            entry = Entry(record.record_type, str(len(self.entries) + 1), "0", name)
            self.entries[entry.quickbooks_id] = entry
        else:
            entry = self.entries[record.quickbooks_id]
            if entry.version != record.quickbooks_version:
                return WriteResult(record.key, fault=STALE)
            entry.version = str(int(entry.version) + 1)
            entry.name = name
        total = getattr(write.model, "total", None)
        entry.amount = total if isinstance(total, Decimal) else None
        entry.party = next(
            (
                quickbooks_id
                for key, quickbooks_id in write.ids.items()
                if key.split("/")[0] in ("customer", "vendor")
            ),
            None,
        )
        return WriteResult(record.key, entry.quickbooks_id, entry.version)

    @staticmethod
    def name_of(write: Write) -> str:
        return write.name or str(write.record.data.get("doc_number") or write.record.key)

    def _find(self, write: Write) -> Found | None:
        name = self.name_of(write)
        match = [e for e in self.entries.values() if e.name == name and e.entity == write.record.record_type]
        return (
            Found(match[0].entity, match[0].quickbooks_id, match[0].version, name)
            if len(match) == 1
            else None
        )

    def _current(self, write: Write) -> Found | None:
        entry = self.entries.get(write.record.quickbooks_id or "")
        return None if entry is None else Found(entry.entity, entry.quickbooks_id, entry.version, entry.name)

    def holders(self, name: str) -> tuple[Found, ...]:
        return tuple(
            Found(e.entity, e.quickbooks_id, e.version, e.name)
            for e in self.entries.values()
            if e.name == name
        )


def _held(entry: Entry) -> Held:
    return Held(entry.quickbooks_id, entry.name, entry.version, entry.amount, entry.party)
