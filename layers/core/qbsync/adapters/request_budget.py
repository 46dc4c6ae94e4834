"""A per-company limiter shared by every worker, so QuickBooks Online never has to answer 429.

Intuit allows 500 requests and 40 batch requests in any rolling minute per company (NOTES §3.4, §3.8). A
token bucket of capacity C refilled at r per minute lets through at most C + r in any 60 seconds, so the
buckets below stay within both limits with a margin: requests C=100, r=380 (≤ 480); batches C=2, r=36 (≤ 38).
The batch bucket spends its margin on the rate, not on a burst: a sync sends batches of 30 writes back to
back, so r bounds it (36 batches of 30 = 1,080 writes a minute, where C=8, r=30 held it to 900).

Each bucket is one DynamoDB item updated with a compare-and-set on its version:

    pk = REALM#{realm_id}   sk = BUDGET#{bucket}   tokens, at, version

Intuit also allows at most 10 requests at once per company and app. Each request in flight holds one of
8 slot items until it ends, or until the slot's lease runs out (a worker that died holding it):

    pk = REALM#{realm_id}   sk = SLOT#{n}   owner, until
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from qbsync.adapters.dynamodb import delete_if, put_if, read_item, timestamp
from qbsync.domain.ports import Clock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CAS_ATTEMPTS = 8
SLOTS = 8  # of Intuit's 10 concurrent requests per company
SLOT_LEASE = timedelta(seconds=60)  # longer than any request (the client's timeout is 15 s)


@dataclass(frozen=True)
class Bucket:
    name: str
    capacity: float
    per_minute: float


REQUESTS = Bucket("requests", capacity=100, per_minute=380)
BATCHES = Bucket("batches", capacity=2, per_minute=36)


class DynamoRequestBudget:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        clock: Clock,
        buckets: tuple[Bucket, Bucket] = (REQUESTS, BATCHES),
        slots: int = SLOTS,
    ) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock
        self._requests, self._batches = buckets
        self._slots = slots

    def enter(self, realm_id: str) -> str | None:
        """A free (or lapsed) slot, taken until `leave` or its lease ends; None when all are held."""
        now = self._clock.now()
        owner = uuid.uuid4().hex
        for n in range(self._slots):
            item = {
                "pk": f"REALM#{realm_id}",
                "sk": f"SLOT#{n}",
                "owner": owner,
                "until": timestamp(now + SLOT_LEASE),
            }
            free = "attribute_not_exists(pk) OR #until < :now"
            if put_if(
                self._client,
                self._table,
                item,
                free,
                values={":now": timestamp(now)},
                names={"#until": "until"},
            ):
                return f"{n}:{owner}"
        return None

    def leave(self, realm_id: str, slot: str) -> None:
        n, _, owner = slot.partition(":")
        key = {"pk": f"REALM#{realm_id}", "sk": f"SLOT#{n}"}
        # Only if still ours: its lease may have lapsed and the slot been taken since.
        delete_if(
            self._client,
            self._table,
            key,
            "#owner = :owner",
            values={":owner": owner},
            names={"#owner": "owner"},
        )

    def take(self, realm_id: str, *, batch: bool) -> float:
        """Spend one request (and one batch request); 0 when allowed, else the seconds to wait first."""
        wait = self._take(realm_id, self._requests)
        if wait == 0 and batch:
            # The request token is spent even if the batch bucket says wait: erring on the safe side.
            wait = self._take(realm_id, self._batches)
        return wait

    def _take(self, realm_id: str, bucket: Bucket) -> float:
        key = {"pk": f"REALM#{realm_id}", "sk": f"BUDGET#{bucket.name}"}
        rate = bucket.per_minute / 60.0
        for _ in range(CAS_ATTEMPTS):
            now = self._clock.now()
            values = read_item(self._client, self._table, key)
            if values is None:
                tokens, version, condition = bucket.capacity, 0, "attribute_not_exists(pk)"
            else:
                elapsed = max(0.0, (now - datetime.fromisoformat(values["at"])).total_seconds())
                tokens = min(bucket.capacity, float(values["tokens"]) + elapsed * rate)
                version, condition = int(values["version"]), "version = :version"
            if tokens < 1:
                return (1 - tokens) / rate
            item = {**key, "tokens": f"{tokens - 1:.6f}", "at": now.isoformat(), "version": version + 1}
            # The version, not the time, is compared: two takes may happen at the same instant.
            if put_if(
                self._client, self._table, item, condition, values={":version": version} if version else None
            ):
                return 0.0
            # another worker spent a token meanwhile: read again
        return 1.0 / rate
