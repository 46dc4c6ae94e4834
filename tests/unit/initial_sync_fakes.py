"""The initial sync's store in memory, with the adapter's conditions (contract:
tests/adapters/test_initial_sync_store.py)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

from qbsync.domain.initial_sync import InitialSync, Step


@dataclass
class InMemoryInitialSyncs:
    runs: dict[str, InitialSync] = field(default_factory=dict)
    saves: int = 0  # saves that were stored
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, tenant_id: str) -> InitialSync | None:
        with self.lock:
            return self.runs.get(tenant_id)

    def start(self, sync: InitialSync) -> bool:
        with self.lock:
            current = self.runs.get(sync.tenant_id)
            if current is not None and current.step is not Step.DONE:
                return False
            self.runs[sync.tenant_id] = replace(sync, version=1)
            self.saves += 1
            return True

    def save(self, sync: InitialSync) -> bool:
        with self.lock:
            current = self.runs.get(sync.tenant_id)
            if current is None or current.version != sync.version:
                return False
            self.runs[sync.tenant_id] = replace(sync, version=sync.version + 1)
            self.saves += 1
            return True
