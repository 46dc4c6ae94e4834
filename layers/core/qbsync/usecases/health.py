"""Health: whether storage answers, and when the background pipeline last proved itself alive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from qbsync.domain.jobs import HEARTBEAT_JOB, Job, new_job
from qbsync.domain.metrics import HEARTBEATS, NO_METRICS, Metrics
from qbsync.domain.ports import Clock, HeartbeatStore, JobQueue

WORKER = "sync-worker"
# The schedule sends a heartbeat every 5 minutes; three missed beats mean the pipeline is stuck.
STALE_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class WorkerHealth:
    last_heartbeat_at: datetime | None
    age_seconds: int | None
    stale: bool


def send_heartbeat(queue: JobQueue, clock: Clock) -> Job:
    """Scheduler side: put a heartbeat job on the queue."""
    job = new_job(HEARTBEAT_JOB, clock.now())
    queue.send(job)
    return job


def record_heartbeat(store: HeartbeatStore, job: Job, metrics: Metrics = NO_METRICS) -> None:
    """Worker side: the job went scheduler → queue → worker; remember when it was sent, and count it (no
    heartbeat counted for 15 minutes is an alarm: template.yaml HeartbeatMissingAlarm)."""
    store.beat(WORKER, job.created_at)
    metrics.add(HEARTBEATS)


def worker_health(store: HeartbeatStore, clock: Clock) -> WorkerHealth:
    last = store.last(WORKER)
    if last is None:
        return WorkerHealth(last_heartbeat_at=None, age_seconds=None, stale=True)
    age = clock.now() - last
    return WorkerHealth(last_heartbeat_at=last, age_seconds=int(age.total_seconds()), stale=age > STALE_AFTER)
