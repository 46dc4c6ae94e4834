"""An in-memory store of match results (`domain.match_results.MatchStore`), for use-case tests. It keeps the
contract the DynamoDB adapter keeps (tests/adapters/test_match_store.py runs both)."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from qbsync.domain.match_results import Found, MatchResult, MatchRun
from qbsync.domain.matching import DuplicateName
from qbsync.domain.paging import Page
from tests.unit.mirror_fakes import decode_cursor, encode_cursor


def _order(result: MatchResult) -> str:
    """The listing's order, as the adapter's sort keys give it: record type, then record id."""
    return f"{result.record_type}#{result.record_id}"


@dataclass
class InMemoryMatchStore:
    results: dict[tuple[str, str, str], MatchResult] = field(default_factory=dict)
    duplicate_names: dict[tuple[str, str], list[DuplicateName]] = field(default_factory=dict)
    rejections: dict[tuple[str, str], set[tuple[str, str]]] = field(default_factory=dict)
    runs: dict[str, MatchRun] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def replace(
        self,
        tenant_id: str,
        record_type: str,
        results: Sequence[MatchResult],
        duplicates: Sequence[DuplicateName],
    ) -> None:
        with self.lock:
            for key in [k for k in self.results if k[:2] == (tenant_id, record_type)]:
                del self.results[key]
            for result in results:
                self.results[(tenant_id, record_type, result.record_id)] = _copy(result)
            self.duplicate_names[(tenant_id, record_type)] = sorted(duplicates, key=lambda d: d.quickbooks_id)

    def get(self, tenant_id: str, record_type: str, record_id: str) -> MatchResult | None:
        with self.lock:
            found = self.results.get((tenant_id, record_type, record_id))
            return None if found is None else _copy(found)

    def save(self, tenant_id: str, result: MatchResult) -> None:
        with self.lock:
            self.results[(tenant_id, result.record_type, result.record_id)] = _copy(result)

    def page(
        self, tenant_id: str, record_type: str | None, found: Found | None, limit: int, cursor: str | None
    ) -> Page[MatchResult]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        listing = [tenant_id, record_type or ""]
        after = decode_cursor(cursor, listing) if cursor is not None else ""
        with self.lock:
            kept = sorted(
                (
                    r
                    for (tenant, kind, _), r in self.results.items()
                    if tenant == tenant_id
                    and (record_type is None or kind == record_type)
                    and (found is None or r.found is found)
                    and _order(r) > after
                ),
                key=_order,
            )
        items = kept[:limit]
        more = len(kept) > limit
        cursor_out = encode_cursor(listing, _order(items[-1])) if more else None
        return Page([_copy(r) for r in items], cursor_out)

    def duplicates(self, tenant_id: str, record_type: str) -> list[DuplicateName]:
        with self.lock:
            return list(self.duplicate_names.get((tenant_id, record_type), []))

    def reject(self, tenant_id: str, record_type: str, record_id: str, quickbooks_ids: Sequence[str]) -> None:
        with self.lock:
            pairs = self.rejections.setdefault((tenant_id, record_type), set())
            pairs.update((record_id, q) for q in quickbooks_ids)

    def rejected(self, tenant_id: str, record_type: str) -> set[tuple[str, str]]:
        with self.lock:
            return set(self.rejections.get((tenant_id, record_type), set()))

    def run(self, tenant_id: str) -> MatchRun | None:
        with self.lock:
            return self.runs.get(tenant_id)

    def save_run(self, tenant_id: str, run: MatchRun) -> bool:
        with self.lock:
            stored = self.runs.get(tenant_id)
            if (0 if stored is None else stored.version) != run.version:
                return False
            self.runs[tenant_id] = MatchRun.from_dict(json.loads(json.dumps(run.as_dict())), run.version + 1)
            return True


def _copy(result: MatchResult) -> MatchResult:
    """As storage gives it back: through the stored form."""
    return MatchResult.from_dict(json.loads(json.dumps(result.as_dict())))
