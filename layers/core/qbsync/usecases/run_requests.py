"""Asking for a tenant's sync run: at most one `sync.run` job per tenant waits in the queue.

The `sync.run` job is QuickBooks Online's: its worker calls QuickBooks. QuickBooks Desktop is reached only
when the tenant's Web Connector calls in, so for a Desktop tenant the ask is noted (the Web Connector's next
run finds work waiting) and no job is sent.

A run takes the request when it starts (`TenantLease.take_request`), so a record pushed while it runs asks for
the next one. Everything that wants a run asks here (a push, a connection, a run that must go on, one that
QuickBooks asked to wait): while a job is waiting, further asks add nothing, so jobs never multiply however
often a run is cut short.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from qbsync.domain.jobs import SYNC_RUN_JOB, new_job
from qbsync.domain.ports import Clock, JobQueue
from qbsync.domain.sync import TenantLease
from qbsync.domain.tenants import Edition

# A run asked for and not started after this long: its job is presumed lost and the next ask sends another.
# Longer than the queue's visibility timeout (900 s, template.yaml), after which a crashed job comes back.
RUN_REQUEST_STALE = timedelta(minutes=20)
SQS_DELAY_MAX = timedelta(seconds=900)
__all__ = ["RUN_REQUEST_STALE", "SQS_DELAY_MAX", "SYNC_RUN_JOB", "RunRequests"]  # the job kind it sends, too


@dataclass
class RunRequests:
    runs: TenantLease
    jobs: JobQueue
    clock: Clock

    def request(
        self, tenant_id: str, delay: timedelta = timedelta(0), edition: Edition = Edition.QBO
    ) -> bool:
        """Ask for a run in `delay` (at most SQS's 15 minutes); False when one is already asked for, and for
        a QuickBooks Desktop tenant (its Web Connector runs it: no job)."""
        now = self.clock.now()
        if not self.runs.request_run(tenant_id, now, RUN_REQUEST_STALE) or edition is not Edition.QBO:
            return False
        seconds = int(min(max(delay, timedelta(0)), SQS_DELAY_MAX).total_seconds())
        self.jobs.send(new_job(SYNC_RUN_JOB, now, tenant_id=tenant_id), delay_seconds=seconds)
        return True

    def hold(self, tenant_id: str) -> bool:
        """Note a run as asked for without sending a job: the job being handled comes back by itself (SQS
        delivers a failed message again). False when another job is waiting already: that one does the
        work."""
        return self.runs.request_run(tenant_id, self.clock.now(), RUN_REQUEST_STALE)
