"""What the host app was told of payments, and the per-company request budget, in DynamoDB (moto)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest

from local.aws import LocalStack
from local.qbo import server
from qbsync.adapters import request_budget
from qbsync.adapters.payments_dynamodb import DynamoPaymentLog
from qbsync.adapters.qbo_books import BATCH_MAX
from qbsync.adapters.qbo_faults import RequestBudgetExceededError
from qbsync.adapters.qbo_http import BUDGET_WAIT_MAX, QboClient
from qbsync.adapters.request_budget import BATCHES, REQUESTS, Bucket, DynamoRequestBudget
from qbsync.domain.payments import Told
from tests.adapters.test_qbo_client import SandboxTokens
from tests.unit.fakes import FixedClock

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def table(aws_env: LocalStack) -> str:
    return str(aws_env.ref("Table"))


def test_telling_is_a_compare_and_set(table: str) -> None:
    log = DynamoPaymentLog(boto3.client("dynamodb"), table)
    assert log.told("acme", "17") is None
    first = Told("0", voided=False)
    assert log.tell("acme", "17", first, None) is True
    assert log.tell("acme", "17", first, None) is False  # another worker told it first
    assert log.told("acme", "17") == first
    voided = Told("1", voided=True)
    assert log.tell("acme", "17", voided, Told("9", voided=False)) is False  # not what is stored
    assert log.tell("acme", "17", voided, first) is True
    assert log.told("acme", "17") == voided
    assert log.told("zeta", "17") is None  # tenants never share


def test_the_pull_cursor_only_moves_forward(table: str) -> None:
    log = DynamoPaymentLog(boto3.client("dynamodb"), table)
    assert log.pulled_until("acme") is None
    log.advance("acme", T0)
    log.advance("acme", T0 - timedelta(minutes=5))  # a slow, older pull finishing late
    assert log.pulled_until("acme") == T0
    log.advance("acme", T0 + timedelta(minutes=15))
    assert log.pulled_until("acme") == T0 + timedelta(minutes=15)


@pytest.mark.parametrize("make", ["dynamodb", "fake"])
def test_a_rewind_moves_the_pull_cursor_back_only(table: str, make: str) -> None:
    from tests.unit.sync_fakes import InMemoryPaymentLog

    log = DynamoPaymentLog(boto3.client("dynamodb"), table) if make == "dynamodb" else InMemoryPaymentLog()
    log.rewind("acme", T0)  # none yet: set there
    assert log.pulled_until("acme") == T0
    log.advance("acme", T0 + timedelta(days=2))
    log.rewind("acme", T0 - timedelta(days=40))  # the initial sync's since date
    assert log.pulled_until("acme") == T0 - timedelta(days=40)
    log.rewind("acme", T0)  # never forward
    assert log.pulled_until("acme") == T0 - timedelta(days=40)


def test_the_budget_lets_a_burst_through_then_paces_it(table: str) -> None:
    clock = FixedClock(T0)
    budget = DynamoRequestBudget(
        boto3.client("dynamodb"), table, clock, (Bucket("requests", 3, 60), Bucket("batches", 2, 30))
    )
    assert [budget.take("realm-1", batch=False) for _ in range(3)] == [0, 0, 0]
    assert budget.take("realm-1", batch=False) == pytest.approx(1.0)  # 60 a minute: one a second
    assert budget.take("realm-2", batch=False) == 0  # each company has its own
    clock.advance(timedelta(seconds=1))
    assert budget.take("realm-1", batch=False) == 0
    clock.advance(timedelta(seconds=10))  # refilled, but never beyond the capacity
    assert [budget.take("realm-1", batch=True) for _ in range(3)] == [0, 0, pytest.approx(2.0)]


def test_a_take_racing_another_at_the_same_instant_is_counted_once(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FixedClock(T0)  # both takes happen at the same instant: only the version tells them apart
    client = boto3.client("dynamodb")
    buckets = (Bucket("requests", 2, 1), Bucket("batches", 1, 1))
    ours, other = (DynamoRequestBudget(client, table, clock, buckets) for _ in range(2))
    assert ours.take("realm-1", batch=False) == 0  # creates the bucket: 1 token left
    read = request_budget.read_item
    raced: list[float] = []

    def read_then_race(*args: Any, **kwargs: Any) -> dict[str, Any] | None:
        values = read(*args, **kwargs)
        if not raced:  # the other worker's take lands between our read and our write
            raced.append(-1)
            raced[0] = other.take("realm-1", batch=False)
        return values

    monkeypatch.setattr(request_budget, "read_item", read_then_race)
    second = ours.take("realm-1", batch=False)
    assert raced == [0]  # the other worker took the last token
    assert second > 0  # ours found its write refused, read again, and waits


def test_the_default_buckets_stay_within_intuits_limits() -> None:
    # A token bucket lets through at most its capacity plus a minute's refill in any rolling minute.
    assert REQUESTS.capacity + REQUESTS.per_minute < 500
    assert BATCHES.capacity + BATCHES.per_minute < 40


def test_the_default_budget_paces_batches_of_30_above_1000_writes_a_minute_within_intuits_40(
    table: str,
) -> None:
    # A worker sending batches back to back, sleeping what the budget says: no rolling minute carries more
    # than 38 batches (Intuit allows 40), and once the burst is spent a minute still carries 1,000 writes.
    clock = FixedClock(T0)
    budget = DynamoRequestBudget(boto3.client("dynamodb"), table, clock)
    sent: list[datetime] = []
    while clock.now() < T0 + timedelta(minutes=2):
        wait = budget.take("realm-1", batch=True)
        if wait:
            assert wait <= BUDGET_WAIT_MAX  # waited inside the run, never a stop to re-queue
            clock.advance(timedelta(seconds=wait))
        else:
            sent.append(clock.now())
    assert max(sum(1 for t in sent if s <= t < s + timedelta(minutes=1)) for s in sent) <= 38
    second_minute = [t for t in sent if t >= T0 + timedelta(minutes=1)]
    assert len(second_minute) * BATCH_MAX >= 1000


def test_slots_cap_the_requests_in_flight_and_lapse_when_a_holder_dies(table: str) -> None:
    clock = FixedClock(T0)
    budget = DynamoRequestBudget(boto3.client("dynamodb"), table, clock, slots=3)
    held = [budget.enter("realm-1") for _ in range(3)]
    assert None not in held
    assert budget.enter("realm-1") is None  # all three in flight
    assert budget.enter("realm-2") is not None  # another company's
    budget.leave("realm-1", str(held[0]))
    again = budget.enter("realm-1")
    assert again is not None
    clock.advance(request_budget.SLOT_LEASE + timedelta(seconds=1))  # the holders died
    taken_over = budget.enter("realm-1")
    assert taken_over is not None
    budget.leave("realm-1", str(held[1]))  # a late leave of a lapsed slot frees nobody else's
    assert [budget.enter("realm-1") for _ in range(3)].count(None) == 1


def test_the_client_waits_briefly_or_stops_before_sending(table: str) -> None:
    running = server.start(port=0)
    realm = next(iter(running.sandbox.companies))
    clock = FixedClock(T0)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(timedelta(seconds=seconds))

    budget = DynamoRequestBudget(
        boto3.client("dynamodb"), table, clock, (Bucket("requests", 2, 60), Bucket("batches", 1, 1))
    )
    try:
        with httpx.Client(base_url=running.url, timeout=httpx.Timeout(2.0)) as http:
            client = QboClient(http, SandboxTokens(running, realm), budget, sleep=sleep)
            for _ in range(3):
                client.query("acme", "SELECT * FROM Term")
            assert slept == [pytest.approx(1.0)]  # the third waited a second for its token
            batch = {"BatchItemRequest": [{"bId": "1", "Query": "SELECT * FROM Term"}]}
            client.post("acme", "batch", batch, request_id="b-1")
            answered = httpx.get(f"{running.url}/_sandbox/requests").json()["total"]
            with pytest.raises(RequestBudgetExceededError) as raised:  # a batch a minute: too long to wait
                client.post("acme", "batch", batch, request_id="b-2")
            assert raised.value.retry_after > 2.5
            assert httpx.get(f"{running.url}/_sandbox/requests").json()["total"] == answered  # nothing sent
    finally:
        running.stop()
