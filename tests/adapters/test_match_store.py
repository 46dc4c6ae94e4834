"""The contract of the match results' store (domain.match_results.MatchStore), run against DynamoDB (moto)
and against the in-memory fake the use-case tests use: the same test functions, so the fake cannot drift."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import boto3
import pytest

from local.aws import LocalStack
from qbsync.adapters.matches_dynamodb import DynamoMatchStore
from qbsync.domain.errors import InvalidInputError
from qbsync.domain.match_results import (
    Found,
    MatchResult,
    MatchRun,
    MatchStore,
    Refusal,
    RunState,
    TypeSummary,
)
from qbsync.domain.matching import Candidate, DuplicateName, MatchRule
from tests.unit.match_fakes import InMemoryMatchStore

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
TENANT = "acme-42"
OTHER = "acme-4"


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest) -> MatchStore:
    if request.param == "memory":
        return InMemoryMatchStore()
    stack: LocalStack = request.getfixturevalue("aws_env")
    return DynamoMatchStore(boto3.client("dynamodb"), str(stack.ref("Table")))


def result(
    record_id: str, found: Found = Found.NOT_FOUND, record_type: str = "customer", **kw: object
) -> MatchResult:
    return MatchResult(record_type, record_id, found, f"Name of {record_id}", T0, **kw)  # type: ignore[arg-type]


def test_a_result_with_every_field_round_trips_exactly(store: MatchStore) -> None:
    full = result(
        "c.1_x-2",
        Found.AMBIGUOUS,
        candidates=(Candidate("58", MatchRule.NAME_SIMILAR, 91.7), Candidate("59", MatchRule.EMAIL, 100.0)),
        rivals=("c-3",),
        auto_accepted=False,
        linked_to="58",
        refusal=Refusal("inactive", "QuickBooks customer 58 (Ada) is inactive"),
        rejected=True,
    )
    store.replace(TENANT, "customer", [full], [])
    assert store.get(TENANT, "customer", "c.1_x-2") == full
    assert store.get(TENANT, "customer", "nope") is None
    assert store.get(OTHER, "customer", "c.1_x-2") is None


def test_a_run_replaces_the_results_and_duplicates_of_its_type_only(store: MatchStore) -> None:
    store.replace(TENANT, "customer", [result("c-1"), result("c-2")], [DuplicateName("7", ("8",))])
    store.replace(TENANT, "item", [result("i-1", record_type="item")], [DuplicateName("9", ("10",))])
    store.replace(TENANT, "customer", [result("c-2", Found.MATCHED)], [])
    assert store.get(TENANT, "customer", "c-1") is None
    second = store.get(TENANT, "customer", "c-2")
    assert second is not None
    assert second.found is Found.MATCHED
    assert store.duplicates(TENANT, "customer") == []
    assert store.get(TENANT, "item", "i-1") == result("i-1", record_type="item")
    assert store.duplicates(TENANT, "item") == [DuplicateName("9", ("10",))]


def test_rejected_pairs_are_kept_across_runs_per_tenant_and_type(store: MatchStore) -> None:
    store.reject(TENANT, "customer", "c-1", ["58", "59"])
    store.replace(TENANT, "customer", [result("c-1")], [])
    store.reject(TENANT, "customer", "c-1", ["58"])
    assert store.rejected(TENANT, "customer") == {("c-1", "58"), ("c-1", "59")}
    assert store.rejected(TENANT, "item") == set()
    assert store.rejected(OTHER, "customer") == set()


def test_save_replaces_one_result(store: MatchStore) -> None:
    store.replace(TENANT, "customer", [result("c-1", Found.MATCHED)], [])
    store.save(TENANT, result("c-1", Found.MATCHED, linked_to="58"))
    assert store.get(TENANT, "customer", "c-1") == result("c-1", Found.MATCHED, linked_to="58")


def _pages(store: MatchStore, record_type: str | None, found: Found | None, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = store.page(TENANT, record_type, found, limit, cursor)
        pages.append([r.match_id for r in page.items])
        if page.next_cursor is None:
            return pages
        assert len(pages) < 100, "the cursor does not advance"
        cursor = page.next_cursor


def test_the_listing_pages_by_type_then_record_id_with_exact_cursors_and_filters(store: MatchStore) -> None:
    customers = [result(f"c-{n:02d}", Found.MATCHED if n % 3 == 0 else Found.NOT_FOUND) for n in range(10)]
    store.replace(TENANT, "customer", customers, [])
    store.replace(TENANT, "vendor", [result("v-1", record_type="vendor")], [])
    store.replace(OTHER, "customer", [result("x-1")], [])
    every = [f"customer.c-{n:02d}" for n in range(10)]
    assert _pages(store, None, None, 4) == [every[:4], every[4:8], [*every[8:], "vendor.v-1"]]
    assert _pages(store, "customer", None, 10) == [every]
    assert _pages(store, "customer", Found.MATCHED, 2) == [
        ["customer.c-00", "customer.c-03"],
        ["customer.c-06", "customer.c-09"],
    ]
    assert _pages(store, "item", None, 5) == [[]]


def test_a_cursor_of_another_tenant_or_type_or_none_of_ours_is_refused(store: MatchStore) -> None:
    store.replace(TENANT, "customer", [result("c-1"), result("c-2")], [])
    store.replace(OTHER, "customer", [result("c-1"), result("c-2")], [])
    cursor = store.page(TENANT, "customer", None, 1, None).next_cursor
    assert cursor is not None
    for tenant, record_type, bad in [
        (OTHER, "customer", cursor),
        (TENANT, "vendor", cursor),
        (TENANT, "customer", "not-a-cursor"),
    ]:
        with pytest.raises(InvalidInputError):
            store.page(tenant, record_type, None, 1, bad)


def test_a_run_round_trips_and_of_two_saves_of_one_version_only_the_first_is_stored(
    store: MatchStore,
) -> None:
    asked = MatchRun("r1", ("customer", "item"), RunState.QUEUED, T0, T0)
    assert store.run(TENANT) is None
    assert store.save_run(TENANT, asked)
    assert not store.save_run(TENANT, asked)  # a second "first" run
    stored = store.run(TENANT)
    assert stored == replace(asked, version=1)
    done = replace(
        stored,
        state=RunState.DONE,
        finished_at=T0,
        summary={"customer": TypeSummary({"matched": 3, "not_found": 1}, 2, 1, 0, 4)},
        error=None,
    )
    assert store.save_run(TENANT, done)
    assert not store.save_run(TENANT, replace(stored, state=RunState.FAILED))  # read before the save above
    assert store.run(TENANT) == replace(done, version=2)
    assert store.run(OTHER) is None
