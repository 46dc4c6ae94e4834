"""The sync worker's table of job handlers, each given the composition root's container.

A job that cannot finish now (throttled, another worker holds the tenant) is put back on the queue with a
delay and counts as done, so retries never sleep in Lambda and never use up the queue's receive count.
A job that raises is retried by SQS; on its last receive, the records it was sending are marked failed with
the reason before it goes to the dead-letter queue, so nothing is silently stuck.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from qbsync.composition import Container
from qbsync.domain.jobs import (
    ENTITY_CHANGED_JOB,
    HEARTBEAT_JOB,
    INITIAL_SYNC_JOB,
    MATCH_JOB,
    PAYMENTS_PULL_JOB,
    READ_QUICKBOOKS_LISTS_JOB,
    SYNC_RUN_JOB,
    TOKEN_UPKEEP_JOB,
    Job,
    new_job,
)
from qbsync.domain.tenants import Edition
from qbsync.usecases import health
from qbsync.usecases.jobs import JobHandler, run_job
from qbsync.usecases.run_requests import SQS_DELAY_MAX

__all__ = ["LAST_FAILURE", "MAX_RECEIVES", "job_handlers", "job_log_keys", "on_last_receive", "run_job"]
log = logging.getLogger(__name__)

MAX_RECEIVES = 5  # the queue's maxReceiveCount (template.yaml JobsQueue RedrivePolicy)
# The line logged, with the job's id and the error, before a job goes to the dead-letter queue; `make dlq`
# (ops/dlq.py) looks for it in the worker's logs to say why each dead letter died.
LAST_FAILURE = "job failed for the last time"
BUSY_DELAY = timedelta(seconds=20)
# How long a job links matches before it queues the rest as another job: well within the worker's 150 s
# timeout (template.yaml SyncWorkerFunction), with room for the matching before it.
LINKING_SLICE = timedelta(seconds=60)


def _tenant(job: Job) -> str:
    if job.tenant_id is None:
        raise ValueError(f"a {job.kind} job needs a tenant_id")
    return job.tenant_id


def _again(c: Container, job: Job, delay: timedelta) -> None:
    """Queue the same work again after `delay` (at most SQS's 15 minutes)."""
    seconds = int(min(delay, SQS_DELAY_MAX).total_seconds())
    c.jobs.send(
        new_job(job.kind, c.clock.now(), tenant_id=job.tenant_id, **job.payload), delay_seconds=seconds
    )


def token_upkeep(c: Container, job: Job) -> None:
    from qbsync.domain.connections import NotConnectedError

    tenant_id = _tenant(job)
    try:
        refreshed = c.token_keeper.upkeep(tenant_id)
    except NotConnectedError:  # recorded as needs_reauth with an event; retrying cannot help
        log.info("token upkeep skipped: not connected", extra={"tenant_id": tenant_id})
        return
    log.info("token upkeep done", extra={"tenant_id": tenant_id, "refreshed": refreshed})


def heartbeat(c: Container, job: Job) -> None:
    health.record_heartbeat(c.heartbeats, job, c.metrics)


def sync_run(c: Container, job: Job) -> None:
    """One run of the tenant's sync. What follows it is asked through the run requests, so a tenant never
    has more than one job waiting, however often its runs are cut short."""
    from qbsync.usecases.sync_engine import RetryLaterError, TenantBusyError, WaitingForConnectionError

    tenant_id = _tenant(job)
    tenant = c.tenants.get(tenant_id)
    if tenant is None or tenant.edition is not Edition.QBO:  # Desktop tenants sync through the Web Connector
        log.warning("sync run dropped: not a QuickBooks Online tenant", extra={"tenant_id": tenant_id})
        return
    try:
        report = c.sync_engine.run(tenant_id, c.qbo_books)
    except TenantBusyError:  # this job holds the tenant's request; the running one may have read past it
        _again(c, job, BUSY_DELAY)
        return
    except RetryLaterError as exc:
        log.info("sync run paused", extra={"tenant_id": tenant_id, "reason": str(exc)})
        c.run_requests.request(tenant_id, exc.delay)
        return
    except WaitingForConnectionError as exc:  # connecting again requests the next run
        log.info("sync run waits for the connection", extra={"tenant_id": tenant_id, "reason": str(exc)})
        return
    except Exception:
        if c.run_requests.hold(tenant_id):
            raise  # SQS delivers this job again: it is the tenant's one waiting job
        log.exception(
            "sync run failed; the tenant's waiting job runs it again", extra={"tenant_id": tenant_id}
        )
        return
    log.info("sync run done", extra={"tenant_id": tenant_id, **report.__dict__})
    if report.more:
        c.run_requests.request(tenant_id)
    c.initial_syncs.advance(tenant_id)  # its records' states changed: progress, or done


def entity_changed(c: Container, job: Job) -> None:
    """Read the entities of one type a webhook delivery named: a list's in one read, payments one by one.

    A job queued before changes were grouped carries one change in its payload itself."""
    from qbsync.adapters.qbo_faults import RequestBudgetExceededError
    from qbsync.adapters.qbo_lists import LIST_OF_ENTITY

    changes: list[dict[str, Any]] = job.payload.get("changes") or [job.payload]
    entity = str(job.payload.get("entity"))
    list_type = LIST_OF_ENTITY.get(entity)
    if list_type is not None:
        ids = [str(i) for change in changes for i in (change["entity_id"], change.get("deleted_id")) if i]
        try:
            taken = c.quickbooks_lists.on_change(_tenant(job), list_type, ids)
        except RequestBudgetExceededError as exc:
            _again(c, job, timedelta(seconds=exc.retry_after))
            return
        log.info("QuickBooks list change read", extra={"tenant_id": job.tenant_id, "told": len(taken.told)})
        return
    if entity != "Payment":
        log.debug("change not synced back", extra={"entity": entity})
        return
    for done, change in enumerate(changes):
        try:
            told = c.payment_relay.on_change(
                _tenant(job), str(change["entity_id"]), str(change.get("operation", "Update"))
            )
        except RequestBudgetExceededError as exc:
            rest = {**job.payload, "changes": changes[done:]}
            _again(c, job.model_copy(update={"payload": rest}), timedelta(seconds=exc.retry_after))
            return
        log.info("payment change handled", extra={"tenant_id": job.tenant_id, "told": told})


def payments_pull(c: Container, job: Job) -> None:
    """The scheduled change-data pull: payments, then the lists of the mirror. Pulled twice (a retry after
    the lists failed), a payment already told is not told again."""
    from qbsync.adapters.qbo_faults import RequestBudgetExceededError

    try:
        told = c.payment_relay.pull(_tenant(job))
        changed = c.quickbooks_lists.pull(_tenant(job))
    except RequestBudgetExceededError as exc:
        _again(c, job, timedelta(seconds=exc.retry_after))
        return
    log.info("changes pulled", extra={"tenant_id": job.tenant_id, "told": told, "list_changes": changed})


def read_quickbooks_lists(c: Container, job: Job) -> None:
    """A full read of one list into the mirror, or, without `list_type`, one job asked per list."""
    from qbsync.adapters.qbo_faults import RequestBudgetExceededError
    from qbsync.domain.connections import NotConnectedError
    from qbsync.domain.mirror import ListType

    tenant_id = _tenant(job)
    tenant = c.tenants.get(tenant_id)
    if tenant is None or tenant.edition is not Edition.QBO:  # Desktop reads its lists in its sessions
        log.warning("list read dropped: not a QuickBooks Online tenant", extra={"tenant_id": tenant_id})
        return
    list_type = job.payload.get("list_type")
    try:
        if list_type is None:
            c.quickbooks_lists.read_every_list(tenant_id)
            return
        taken = c.quickbooks_lists.read_list(tenant_id, ListType(list_type))
    except RequestBudgetExceededError as exc:
        _again(c, job, timedelta(seconds=exc.retry_after))
        return
    except NotConnectedError:  # connecting again asks for the lists again
        log.info("list read dropped: not connected", extra={"tenant_id": tenant_id})
        return
    log.info(
        "QuickBooks list read",
        extra={
            "tenant_id": tenant_id,
            "list_type": list_type,
            "stored": taken.stored,
            "removed": taken.removed,
        },
    )
    # The lists it waits for may all be read now: this worker matches at once, before a sync run sends.
    c.initial_syncs.advance(tenant_id, settle=False, match=True, until=c.clock.now() + LINKING_SLICE)


def match(c: Container, job: Job) -> None:
    """A step of a match run, or a slice of its linking; the next slice is another job."""
    tenant_id = _tenant(job)
    if c.matches.perform(tenant_id, str(job.payload["run_id"]), until=c.clock.now() + LINKING_SLICE):
        _again(c, job, timedelta(0))


def initial_sync(c: Container, job: Job) -> None:
    """The matching step of the tenant's initial sync (it asks for its own next slice)."""
    c.initial_syncs.advance(_tenant(job), settle=False, match=True, until=c.clock.now() + LINKING_SLICE)


HANDLERS: dict[str, Callable[[Container, Job], None]] = {
    HEARTBEAT_JOB: heartbeat,
    TOKEN_UPKEEP_JOB: token_upkeep,
    SYNC_RUN_JOB: sync_run,
    ENTITY_CHANGED_JOB: entity_changed,
    PAYMENTS_PULL_JOB: payments_pull,
    READ_QUICKBOOKS_LISTS_JOB: read_quickbooks_lists,
    MATCH_JOB: match,
    INITIAL_SYNC_JOB: initial_sync,
}


def job_handlers(c: Container) -> dict[str, JobHandler]:
    """The table of handlers, each working with `c`."""
    return {kind: partial(handler, c) for kind, handler in HANDLERS.items()}


def job_log_keys(c: Container, job: Job) -> dict[str, object]:
    """The keys of every line logged while the job runs; its id is the correlation id of its lines."""
    keys: dict[str, object] = {"job_id": job.id, "job_kind": job.kind, "correlation_id": job.id}
    if job.tenant_id is not None:
        keys.update(c.tenant_log_keys.of(job.tenant_id))
    return keys


def on_last_receive(c: Container, job: Job, error: Exception) -> None:
    """The job failed for the last time: say so on the records it was sending before it is dead-lettered."""
    log.error(LAST_FAILURE, extra={"job_id": job.id, "job_kind": job.kind, "error": repr(error)})
    if job.kind == SYNC_RUN_JOB and job.tenant_id is not None:
        c.sync_engine.fail_stuck(job.tenant_id, f"{type(error).__name__}: {error}")
    if job.kind == MATCH_JOB and job.tenant_id is not None:
        c.matches.fail(job.tenant_id, str(job.payload.get("run_id")), f"{type(error).__name__}: {error}")
