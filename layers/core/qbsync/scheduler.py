"""Scheduled tasks: what EventBridge Scheduler asks for, and the jobs each one puts on the queue."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from qbsync.composition import Container
from qbsync.domain.jobs import PAYMENTS_PULL_JOB, TOKEN_UPKEEP_JOB, new_job
from qbsync.usecases import health

# Each fans out one job per connected tenant, so one tenant's failure never blocks the others.
PER_TENANT = {"token_upkeep": TOKEN_UPKEEP_JOB, "payments_pull": PAYMENTS_PULL_JOB}
PAGE = 100


class ScheduledTask(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: Literal["heartbeat", "token_upkeep", "payments_pull"]


def run_task(c: Container, task: ScheduledTask) -> dict[str, Any]:
    match task.task:
        case "heartbeat":
            job = health.send_heartbeat(c.jobs, c.clock)
            return {"task": task.task, "jobs_sent": 1, "job_ids": [job.id]}
        case "token_upkeep" | "payments_pull":
            kind = PER_TENANT[task.task]
            sent, cursor = 0, None
            while True:
                page = c.connections.connected_tenants(limit=PAGE, cursor=cursor)
                for tenant_id in page.items:
                    c.jobs.send(new_job(kind, c.clock.now(), tenant_id=tenant_id))
                    sent += 1
                if page.next_cursor is None:
                    return {"task": task.task, "jobs_sent": sent}
                cursor = page.next_cursor
