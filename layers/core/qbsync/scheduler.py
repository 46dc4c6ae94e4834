"""Scheduled tasks: what EventBridge Scheduler asks for, and the jobs each one puts on the queue."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from qbsync.composition import container
from qbsync.usecases import health


class ScheduledTask(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: Literal["heartbeat"]


def run_task(task: ScheduledTask) -> dict[str, Any]:
    c = container()
    match task.task:
        case "heartbeat":
            job = health.send_heartbeat(c.jobs, c.clock)
            return {"task": task.task, "jobs_sent": 1, "job_ids": [job.id]}
