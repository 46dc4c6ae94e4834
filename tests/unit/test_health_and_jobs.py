from __future__ import annotations

from datetime import timedelta

import pytest

from qbsync.domain.jobs import Job, UnknownJobError, new_job
from qbsync.metrics import EmfMetrics
from qbsync.usecases import health
from qbsync.usecases.jobs import run_job
from tests.unit.fakes import FixedClock, InMemoryHeartbeats, InMemoryQueue
from tests.unit.published_metrics import during_an_invocation


def test_heartbeat_travels_from_scheduler_through_queue_to_worker() -> None:
    queue, beats, clock = InMemoryQueue(), InMemoryHeartbeats(), FixedClock()
    assert health.worker_health(beats, clock).stale  # nothing has run yet

    job = health.send_heartbeat(queue, clock)
    assert queue.sent == [(job, 0)]
    clock.advance(timedelta(seconds=42))
    run_job({health.HEARTBEAT_JOB: lambda j: health.record_heartbeat(beats, j)}, job)

    status = health.worker_health(beats, clock)
    assert status.last_heartbeat_at == job.created_at
    assert status.age_seconds == 42
    assert not status.stale


def test_each_heartbeat_the_worker_receives_is_counted_for_the_missing_heartbeat_alarm() -> None:
    beats, clock = InMemoryHeartbeats(), FixedClock()
    job = health.send_heartbeat(InMemoryQueue(), clock)
    published = during_an_invocation(lambda: health.record_heartbeat(beats, job, EmfMetrics()))
    assert published.total("Heartbeats") == 1
    assert published.dimension_sets("Heartbeats") == [[]]


def test_worker_is_stale_after_missed_heartbeats() -> None:
    beats, clock = InMemoryHeartbeats(), FixedClock()
    health.record_heartbeat(beats, new_job(health.HEARTBEAT_JOB, clock.now()))
    clock.advance(health.STALE_AFTER + timedelta(seconds=1))
    assert health.worker_health(beats, clock).stale


def test_a_late_redelivered_heartbeat_does_not_move_time_back() -> None:
    beats, clock = InMemoryHeartbeats(), FixedClock()
    old = new_job(health.HEARTBEAT_JOB, clock.now())
    clock.advance(timedelta(minutes=5))
    new = new_job(health.HEARTBEAT_JOB, clock.now())
    health.record_heartbeat(beats, new)
    health.record_heartbeat(beats, old)
    assert beats.last(health.WORKER) == new.created_at


def test_unknown_job_kind_fails_loudly() -> None:
    with pytest.raises(UnknownJobError, match=r"no\.such"):
        run_job({}, new_job("no.such", FixedClock().now()))


def test_job_round_trips_through_json() -> None:
    job = new_job("heartbeat", FixedClock().now(), tenant_id="t1", n=3)
    assert Job.model_validate_json(job.model_dump_json()) == job


def test_job_requires_aware_timestamps() -> None:
    with pytest.raises(ValueError, match="timezone"):
        Job.model_validate({"kind": "x", "created_at": "2026-11-23T10:00:00"})
