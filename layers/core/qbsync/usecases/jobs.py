"""The worker's dispatch: one handler per job kind, looked up in a table."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from qbsync.domain.jobs import Job, UnknownJobError

JobHandler = Callable[[Job], None]


def run_job(handlers: Mapping[str, JobHandler], job: Job) -> None:
    handler = handlers.get(job.kind)
    if handler is None:
        raise UnknownJobError(job.kind)
    handler(job)
