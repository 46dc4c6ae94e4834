"""Automatch as a service: what the last match of each record type found, per host record, kept until the
next match of that type replaces it, and the pairs a person rejected, kept for good.

A run of automatch (domain/matching.py) for a record type gives one `MatchResult` per host record that is
not voided, and the QuickBooks objects of that type whose names other objects share (`DuplicateName`). A
result is known by its `match_id`, "{record_type}.{record_id}" (record types have no '.'; a record id may,
so the id is split at the first one). A person then accepts a proposal (the record is linked to the object)
or rejects it (the pair is remembered: no later run proposes it again).

A `MatchRun` is the tenant's latest request to match (one at a time): asked by the API, done by the worker
in steps (`RunState`), with the counts of what it found and linked once it is done.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from qbsync.domain.matching import Candidate, DuplicateName, MatchRule, Outcome
from qbsync.domain.paging import Page


class Found(StrEnum):
    """What a run found for one host record: automatch's outcomes, and `linked` for a record linked to its
    QuickBooks object already (not matched again)."""

    LINKED = "linked"
    MATCHED = Outcome.MATCHED.value
    AMBIGUOUS = Outcome.AMBIGUOUS.value
    NOT_FOUND = Outcome.NOT_FOUND.value
    MISSING_KEY = Outcome.MISSING_KEY.value


@dataclass(frozen=True)
class Refusal:
    """Why linking a matched record was refused (usecases/links.py LinkRefusedError's code and words)."""

    code: str
    message: str


@dataclass(frozen=True)
class MatchResult:
    """What a run found for one host record, and what became of it since.

    `candidates`: matched, the one object; ambiguous, the objects to pick from (best first). `linked_to`:
    the object the record is linked to (already before the run, auto-accepted, or accepted). `refusal`: why
    the link an auto-accept or an accept tried was refused. `rejected`: a person said it is none of the
    candidates."""

    record_type: str
    record_id: str
    found: Found
    name: str  # the host record's name when the run read it
    at: datetime  # when the run ran
    candidates: tuple[Candidate, ...] = ()
    rivals: tuple[str, ...] = ()  # ambiguous: other host records claiming the same object
    auto_accepted: bool = False
    linked_to: str | None = None
    refusal: Refusal | None = None
    rejected: bool = False

    def __post_init__(self) -> None:
        if self.at.utcoffset() is None:
            raise ValueError(f"{self.at!r} has no time zone")

    @property
    def match_id(self) -> str:
        return match_id_of(self.record_type, self.record_id)

    @property
    def open(self) -> bool:
        """Waiting for a person: a proposal or an ambiguous pick that is neither linked nor rejected."""
        return self.found in (Found.MATCHED, Found.AMBIGUOUS) and self.linked_to is None and not self.rejected

    def linked(self, quickbooks_id: str) -> MatchResult:
        return replace(self, linked_to=quickbooks_id, refusal=None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for storage."""
        return {
            "record_type": self.record_type,
            "record_id": self.record_id,
            "found": self.found.value,
            "name": self.name,
            "at": self.at.isoformat(),
            "candidates": [
                {"quickbooks_id": c.quickbooks_id, "rule": c.rule.value, "score": str(c.score)}
                for c in self.candidates
            ],
            "rivals": list(self.rivals),
            "auto_accepted": self.auto_accepted,
            "linked_to": self.linked_to,
            "refusal": None if self.refusal is None else [self.refusal.code, self.refusal.message],
            "rejected": self.rejected,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchResult:
        """The inverse of `as_dict`."""
        refusal = data.get("refusal")
        return cls(
            record_type=str(data["record_type"]),
            record_id=str(data["record_id"]),
            found=Found(data["found"]),
            name=str(data["name"]),
            at=datetime.fromisoformat(str(data["at"])),
            candidates=tuple(
                Candidate(str(c["quickbooks_id"]), MatchRule(c["rule"]), float(c["score"]))
                for c in data.get("candidates", ())
            ),
            rivals=tuple(str(r) for r in data.get("rivals", ())),
            auto_accepted=bool(data.get("auto_accepted", False)),
            linked_to=None if data.get("linked_to") is None else str(data["linked_to"]),
            refusal=None if not refusal else Refusal(str(refusal[0]), str(refusal[1])),
            rejected=bool(data.get("rejected", False)),
        )


class RunState(StrEnum):
    """Where a match run is: asked for, matching (results being replaced), linking the matches accepted
    automatically (in slices the worker queues one after another), done, or failed (`error` says why)."""

    QUEUED = "queued"
    MATCHING = "matching"
    LINKING = "linking"
    DONE = "done"
    FAILED = "failed"


UNFINISHED = frozenset({RunState.QUEUED, RunState.MATCHING, RunState.LINKING})


@dataclass(frozen=True)
class TypeSummary:
    """What a run did for one record type: host records per what was found (`Found` value -> count), the
    matches linked at once (`auto_linked`) or whose link was refused (`refused`), records skipped because
    their stored data no longer parses, and QuickBooks objects whose names others share."""

    found: Mapping[str, int]
    auto_linked: int = 0
    refused: int = 0
    skipped: int = 0
    duplicate_names: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "found": dict(self.found),
            "auto_linked": self.auto_linked,
            "refused": self.refused,
            "skipped": self.skipped,
            "duplicate_names": self.duplicate_names,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TypeSummary:
        return cls(
            {str(k): int(v) for k, v in data["found"].items()},
            int(data.get("auto_linked", 0)),
            int(data.get("refused", 0)),
            int(data.get("skipped", 0)),
            int(data.get("duplicate_names", 0)),
        )


@dataclass(frozen=True)
class MatchRun:
    """A tenant's latest match run. `version` counts its saves: each save is conditional on it."""

    run_id: str
    record_types: tuple[str, ...]
    state: RunState
    requested_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    summary: Mapping[str, TypeSummary] = field(default_factory=dict)
    error: str | None = None
    version: int = 0

    @property
    def unfinished(self) -> bool:
        return self.state in UNFINISHED

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for storage (`version` is the store's)."""
        return {
            "run_id": self.run_id,
            "record_types": list(self.record_types),
            "state": self.state.value,
            "requested_at": self.requested_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "finished_at": None if self.finished_at is None else self.finished_at.isoformat(),
            "summary": {t: s.as_dict() for t, s in self.summary.items()},
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], version: int) -> MatchRun:
        finished = data.get("finished_at")
        return cls(
            run_id=str(data["run_id"]),
            record_types=tuple(str(t) for t in data["record_types"]),
            state=RunState(data["state"]),
            requested_at=datetime.fromisoformat(str(data["requested_at"])),
            updated_at=datetime.fromisoformat(str(data["updated_at"])),
            finished_at=None if finished is None else datetime.fromisoformat(str(finished)),
            summary={str(t): TypeSummary.from_dict(s) for t, s in data.get("summary", {}).items()},
            error=None if data.get("error") is None else str(data["error"]),
            version=version,
        )


def match_id_of(record_type: str, record_id: str) -> str:
    return f"{record_type}.{record_id}"


def split_match_id(match_id: str) -> tuple[str, str] | None:
    """(record type, record id) of a match id; None when it has no '.' or an empty part."""
    record_type, dot, record_id = match_id.partition(".")
    return (record_type, record_id) if dot and record_type and record_id else None


class MatchStore(Protocol):
    """Each tenant's latest match results, duplicate names and rejected pairs (contract:
    tests/adapters/test_match_store.py)."""

    def replace(
        self,
        tenant_id: str,
        record_type: str,
        results: Sequence[MatchResult],
        duplicates: Sequence[DuplicateName],
    ) -> None:
        """Store a run's results and duplicate names of one type, replacing that type's previous ones
        (rejected pairs stay)."""

    def get(self, tenant_id: str, record_type: str, record_id: str) -> MatchResult | None: ...

    def save(self, tenant_id: str, result: MatchResult) -> None:
        """Store one result (after an accept or a reject), replacing the one of its record."""

    def page(
        self,
        tenant_id: str,
        record_type: str | None,
        found: Found | None,
        limit: int,
        cursor: str | None,
    ) -> Page[MatchResult]:
        """Up to `limit` results, of one type or all, by record type then record id; with `found`, only
        those. InvalidInputError for a cursor this store did not issue for this tenant and type."""

    def duplicates(self, tenant_id: str, record_type: str) -> list[DuplicateName]:
        """The type's duplicate names of its last run, by QuickBooks id."""

    def reject(self, tenant_id: str, record_type: str, record_id: str, quickbooks_ids: Sequence[str]) -> None:
        """Remember that the record is none of these objects."""

    def rejected(self, tenant_id: str, record_type: str) -> set[tuple[str, str]]:
        """Every (record id, QuickBooks id) pair of the type a person rejected."""

    def run(self, tenant_id: str) -> MatchRun | None:
        """The tenant's latest match run, if it ever asked for one."""

    def save_run(self, tenant_id: str, run: MatchRun) -> bool:
        """Store the run if the stored one is still at `run.version` (0: there is none), as version + 1;
        False when another save came first."""
