"""The sync worker's table of job handlers, wired to the adapters."""

from __future__ import annotations

import functools

from qbsync.composition import container
from qbsync.usecases import health
from qbsync.usecases.jobs import JobHandler, run_job

__all__ = ["job_handlers", "run_job"]


@functools.cache
def job_handlers() -> dict[str, JobHandler]:
    c = container()
    return {
        health.HEARTBEAT_JOB: functools.partial(health.record_heartbeat, c.heartbeats),
    }
