"""A scriptable QuickBooks, as the sync engine sees it through the `Books` port, for the engine's own tests.

It keeps the rules the engine relies on in both editions: names unique across customers, vendors and
employees (a clash is RESOLVE_NAME_CLASH), a version per object (a stale one is REREAD_AND_REAPPLY), a
request id answered again with its first result, answers that can be lost after the writes were applied, and
whole-batch faults scripted per kind of operation. Scenarios run against it in milliseconds; the same
scenarios run against QuickBooks Online's adapter and sandbox in tests/adapters/test_sync_engine_qbo.py."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from qbsync.domain.settings import SyncSettings
from qbsync.domain.sync import (
    Batch,
    EditionProfile,
    Fault,
    FaultAction,
    Found,
    Outcomes,
    Write,
    WriteResult,
)
from tests.unit.fakes import FixedClock

PEOPLE = ("customer", "vendor", "employee")
PROFILE = EditionProfile(batch_max=30, lease=timedelta(minutes=3), run_budget=timedelta(seconds=50))
LOST_ANSWER_WAIT = timedelta(seconds=60)  # what waiting for an answer that never comes costs the run

STALE = Fault(FaultAction.REREAD_AND_REAPPLY, "stale", "QuickBooks refused it: the object changed")
CLASH = Fault(FaultAction.RESOLVE_NAME_CLASH, "clash", "QuickBooks refused it: the name is in use")


@dataclass
class Entry:
    entity: str
    qbo_id: str
    version: str
    name: str
    active: bool = True


@dataclass
class FakeBooks:
    """`faults[kind]` ("write", "look_up", "reread", "name_holders") answer the next batches carrying that
    kind of operation as a whole, in order; `item_faults[name]` answer the next writes of that name."""

    clock: FixedClock
    profile: EditionProfile = PROFILE
    entries: dict[str, Entry] = field(default_factory=dict)  # by QuickBooks id
    answered: dict[str, dict[str, WriteResult]] = field(default_factory=dict)  # by request id
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    item_faults: dict[str, list[Fault]] = field(default_factory=dict)
    lose_answers: int = 0  # the next write batches are applied, and their answers lost
    creates: Counter[str] = field(default_factory=Counter)  # name -> times created
    calls: Counter[str] = field(default_factory=Counter)  # per kind of operation, batches that carried it
    batches: list[Batch] = field(default_factory=list)

    def send(self, batch: Batch, settings: SyncSettings) -> Outcomes:
        self.batches.append(batch)
        kinds = [k for k, ops in self._kinds(batch).items() if ops]
        for kind in kinds:
            self.calls[kind] += 1
        for kind in kinds:
            if self.faults.get(kind):
                return Outcomes(fault=self.faults[kind].pop(0))
        if batch.writes:
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
        if self.lose_answers:
            self.lose_answers -= 1
            self.clock.advance(LOST_ANSWER_WAIT)
            lost = Fault(FaultAction.OUTCOME_UNKNOWN, "no_answer", "QuickBooks did not answer")
            return Outcomes(fault=lost, maybe_applied=True)
        return Outcomes(written=self.answered[batch.request_id])

    def _apply(self, write: Write) -> WriteResult:
        record = write.record
        name = self.name_of(write)
        if self.item_faults.get(name):
            return WriteResult(record.key, fault=self.item_faults[name].pop(0))
        if record.qbo_id is None:
            if record.record_type in PEOPLE and any(
                e.name == name and e.entity in PEOPLE for e in self.entries.values()
            ):
                return WriteResult(record.key, fault=CLASH)
            qbo_id = str(len(self.entries) + 1)
            self.entries[qbo_id] = Entry(record.record_type, qbo_id, "0", name)
            self.creates[name] += 1
            return WriteResult(record.key, qbo_id, "0")
        entry = self.entries[record.qbo_id]
        if entry.version != record.sync_token:
            return WriteResult(record.key, fault=STALE)
        entry.version = str(int(entry.version) + 1)
        entry.name = name
        return WriteResult(record.key, entry.qbo_id, entry.version)

    @staticmethod
    def name_of(write: Write) -> str:
        return write.name or str(write.record.data.get("doc_number") or write.record.key)

    def _find(self, write: Write) -> Found | None:
        name = self.name_of(write)
        match = [e for e in self.entries.values() if e.name == name and e.entity == write.record.record_type]
        return Found(match[0].entity, match[0].qbo_id, match[0].version, name) if len(match) == 1 else None

    def _current(self, write: Write) -> Found | None:
        entry = self.entries.get(write.record.qbo_id or "")
        return None if entry is None else Found(entry.entity, entry.qbo_id, entry.version, entry.name)

    def holders(self, name: str) -> tuple[Found, ...]:
        return tuple(
            Found(e.entity, e.qbo_id, e.version, e.name) for e in self.entries.values() if e.name == name
        )
