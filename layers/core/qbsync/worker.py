"""The sync worker's table of job handlers, wired to the adapters."""

from __future__ import annotations

import logging

from qbsync.composition import container
from qbsync.domain.jobs import Job
from qbsync.scheduler import TOKEN_UPKEEP_JOB
from qbsync.usecases import health
from qbsync.usecases.jobs import JobHandler, run_job

__all__ = ["job_handlers", "run_job"]
log = logging.getLogger(__name__)


def token_upkeep(job: Job) -> None:
    from qbsync.usecases.tokens import NotConnectedError

    if job.tenant_id is None:
        raise ValueError("a token upkeep job needs a tenant_id")
    try:
        refreshed = container().token_keeper.upkeep(job.tenant_id)
    except NotConnectedError:  # recorded as needs_reauth with an event; retrying cannot help
        log.info("token upkeep skipped: not connected", extra={"tenant_id": job.tenant_id})
        return
    log.info("token upkeep done", extra={"tenant_id": job.tenant_id, "refreshed": refreshed})


def heartbeat(job: Job) -> None:
    health.record_heartbeat(container().heartbeats, job)


HANDLERS: dict[str, JobHandler] = {
    health.HEARTBEAT_JOB: heartbeat,
    TOKEN_UPKEEP_JOB: token_upkeep,
}


def job_handlers() -> dict[str, JobHandler]:
    return HANDLERS
