"""Reading a QuickBooks Online company's lists into the mirror, and keeping it fresh.

- At connect, one `read_quickbooks_lists` job asks for every list; it sends one job per list, so each list's
  read (many pages for a large company) has a worker's whole run to itself. A read that fails part way
  raises, and the queue delivers its job again: the read starts over, and storing it twice changes nothing.
- A webhook names objects that changed (a merge, the one merged away too): they are read by id.
- The scheduled change-data pull reads what changed in every loaded list since the oldest of their marks
  (less OVERLAP: QuickBooks may stamp a change a little after it happened); a list never loaded is read in
  full instead, and so is every list when the source cannot tell all that changed.

Every read goes to `QuickBooksSide.take`, which stores it and tells the host app what changed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from qbsync.domain.jobs import READ_QUICKBOOKS_LISTS_JOB, new_job
from qbsync.domain.mirror import ListSource, ListType, MirrorStore, ReadMark
from qbsync.domain.ports import Clock, JobQueue
from qbsync.usecases.quickbooks_side import QuickBooksSide, Taken

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=5)  # as the payments' pull (usecases/payments.py)


@dataclass
class QuickBooksLists:
    source: ListSource
    side: QuickBooksSide
    mirror: MirrorStore
    jobs: JobQueue
    clock: Clock

    def read_every_list(self, tenant_id: str) -> int:
        """Ask for a full read of each list, one job each; how many were asked."""
        return self._ask(tenant_id, self.source.lists)

    def read_list(self, tenant_id: str, list_type: ListType) -> Taken:
        """Read one whole list into the mirror. An empty list is marked read through the time it started."""
        started = self.clock.now()
        read = self.source.read(tenant_id, list_type)
        if read.through is None:
            read = replace(read, through=started)
        return self.side.take(tenant_id, read)

    def on_change(self, tenant_id: str, list_type: ListType, quickbooks_ids: Sequence[str]) -> Taken:
        """Objects a webhook said changed, read as they are now: whatever the operation (a name made
        inactive may be told as a deletion), an object QuickBooks no longer has is removed."""
        return self.side.take(tenant_id, self.source.read_ids(tenant_id, list_type, quickbooks_ids))

    def pull(self, tenant_id: str) -> int:
        """Read what changed since the marks; how many entries it stored or removed."""
        marks = self.mirror.marks(tenant_id)
        loaded = [lt for lt in self.source.lists if marks.get(lt, ReadMark(lt)).loaded]
        unloaded = [lt for lt in self.source.lists if lt not in loaded]
        self._ask(tenant_id, unloaded)
        stamps = [t for lt in loaded if (t := marks[lt].through) is not None]
        if not stamps:
            return 0
        changes = self.source.changed_since(tenant_id, loaded, min(stamps) - OVERLAP)
        if changes.full:  # keep what came, but the marks stay until the lists are read again in full
            self._ask(tenant_id, loaded)
            changes = replace(changes, reads=tuple(replace(r, through=None) for r in changes.reads))
        taken = [self.side.take(tenant_id, read) for read in changes.reads]
        return sum(t.stored + t.removed for t in taken)

    def _ask(self, tenant_id: str, list_types: Sequence[ListType]) -> int:
        now: datetime = self.clock.now()
        for list_type in list_types:
            self.jobs.send(
                new_job(READ_QUICKBOOKS_LISTS_JOB, now, tenant_id=tenant_id, list_type=list_type.value)
            )
        if list_types:
            log.info(
                "QuickBooks list reads asked",
                extra={"tenant_id": tenant_id, "lists": [lt.value for lt in list_types]},
            )
        return len(list_types)
