"""At most one sync.run job waits per tenant, whoever asks and however often a run is cut short."""

from __future__ import annotations

from datetime import timedelta

from qbsync.domain.jobs import SYNC_RUN_JOB
from qbsync.usecases.run_requests import RUN_REQUEST_STALE, RunRequests
from tests.unit.fakes import FixedClock, InMemoryQueue
from tests.unit.sync_fakes import InMemoryTenantLease


def _requests() -> tuple[RunRequests, InMemoryQueue, InMemoryTenantLease, FixedClock]:
    queue, lease, clock = InMemoryQueue(), InMemoryTenantLease(), FixedClock()
    return RunRequests(lease, queue, clock), queue, lease, clock


def test_asks_while_a_job_waits_add_no_job() -> None:
    requests, queue, _, _ = _requests()
    assert requests.request("acme") is True
    assert [requests.request("acme", timedelta(seconds=20)) for _ in range(5)] == [False] * 5
    assert [(job.kind, job.tenant_id, delay) for job, delay in queue.sent] == [(SYNC_RUN_JOB, "acme", 0)]


def test_a_started_run_takes_the_request_so_the_next_ask_queues_a_job_with_its_delay() -> None:
    requests, queue, lease, _ = _requests()
    requests.request("acme")
    lease.take_request("acme")  # the run starts
    assert requests.request("acme", timedelta(seconds=60)) is True
    assert requests.request("acme", timedelta(hours=2)) is False
    assert [delay for _, delay in queue.sent] == [0, 60]


def test_a_delay_beyond_what_the_queue_allows_is_the_queues_longest() -> None:
    requests, queue, _, _ = _requests()
    requests.request("acme", timedelta(hours=2))
    assert [delay for _, delay in queue.sent] == [900]


def test_a_crashed_job_holds_the_request_and_a_second_one_finds_it_held() -> None:
    requests, queue, lease, clock = _requests()
    assert requests.hold("acme") is True  # the crashed job comes back by itself
    assert requests.hold("acme") is False  # another crashed job: the waiting one does the work
    assert requests.request("acme") is False
    assert queue.sent == []
    clock.advance(RUN_REQUEST_STALE + timedelta(seconds=1))  # the held job never came back
    assert requests.request("acme") is True
    assert len(queue.sent) == 1
    assert lease.requests["acme"] == clock.now()


def test_tenants_are_asked_for_apart() -> None:
    requests, queue, _, _ = _requests()
    assert requests.request("acme") is True
    assert requests.request("globex") is True
    assert sorted(job.tenant_id or "" for job, _ in queue.sent) == ["acme", "globex"]
