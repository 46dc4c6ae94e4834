"""Intuit's throttles, per realm (NOTES §3.8): 500 requests in any rolling minute, 10 at once, 40 batch
requests a minute. Beyond them the API answers 429 with the XML throttle fault (faults.throttled). The minute
windows follow the sandbox clock, so tests move time instead of waiting; tests may lower the limits too.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from local.qbo.state import Sandbox


@dataclass
class Limiter:
    per_minute: int = 500
    concurrent: int = 10
    batch_per_minute: int = 40  # the lower of the two published figures (40 in 2023, 120 from 2025)
    window: timedelta = timedelta(minutes=1)
    _requests: dict[str, deque[datetime]] = field(default_factory=dict, repr=False)
    _batches: dict[str, deque[datetime]] = field(default_factory=dict, repr=False)
    _in_flight: dict[str, int] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def admit(self, realm_id: str, now: datetime, *, batch: bool = False) -> bool:
        """Count a request in, or refuse it (False) at a limit; an admitted request must be released."""
        with self._lock:
            recent = self._trim(self._requests, realm_id, now)
            batches = self._trim(self._batches, realm_id, now)
            if (
                self._in_flight.get(realm_id, 0) >= self.concurrent
                or len(recent) >= self.per_minute
                or (batch and len(batches) >= self.batch_per_minute)
            ):
                return False
            recent.append(now)
            if batch:
                batches.append(now)
            self._in_flight[realm_id] = self._in_flight.get(realm_id, 0) + 1
            return True

    def release(self, realm_id: str) -> None:
        with self._lock:
            self._in_flight[realm_id] = max(0, self._in_flight.get(realm_id, 0) - 1)

    def in_flight(self, realm_id: str) -> int:
        with self._lock:
            return self._in_flight.get(realm_id, 0)

    def _trim(self, windows: dict[str, deque[datetime]], realm_id: str, now: datetime) -> deque[datetime]:
        times = windows.setdefault(realm_id, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times


def limiter_for(sb: Sandbox) -> Limiter:
    """The sandbox's limiter, made on first use."""
    if sb.limiter is None:
        sb.limiter = Limiter()
    return sb.limiter
