"""Each tenant's initial sync in DynamoDB: one item, replaced by every save, each save conditional.

    pk = TENANT#{tenant_id}   sk = INITIAL_SYNC   step, version, started_at, updated_at, settings_version,
                                                   summary (JSON), progress_told_at, finished_at

`start` writes version 1 where no item is, or where the last run is done; `save` writes version n + 1 where
version n still is. Of two writers that read the same version, exactly one stores the next.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from qbsync.adapters.dynamodb import aware_timestamp, put_if, read_item
from qbsync.domain.initial_sync import InitialSync, Step, TypeCounts

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _key(tenant_id: str) -> dict[str, str]:
    return {"pk": f"TENANT#{tenant_id}", "sk": "INITIAL_SYNC"}


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


class DynamoInitialSyncStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, tenant_id: str) -> InitialSync | None:
        values = read_item(self._client, self._table, _key(tenant_id))
        if values is None:
            return None
        summary = json.loads(values["summary"]) if values.get("summary") else None
        started, updated = _time(values["started_at"]), _time(values["updated_at"])
        assert started is not None
        assert updated is not None
        return InitialSync(
            tenant_id=tenant_id,
            step=Step(values["step"]),
            started_at=started,
            updated_at=updated,
            settings_version=int(values["settings_version"]),
            summary=None if summary is None else {t: TypeCounts.from_dict(c) for t, c in summary.items()},
            progress_told_at=_time(values.get("progress_told_at")),
            finished_at=_time(values.get("finished_at")),
            version=int(values["version"]),
        )

    def start(self, sync: InitialSync) -> bool:
        condition = "attribute_not_exists(pk) OR step = :done"
        return put_if(
            self._client, self._table, self._item(sync, 1), condition, values={":done": Step.DONE.value}
        )

    def save(self, sync: InitialSync) -> bool:
        item = self._item(sync, sync.version + 1)
        return put_if(self._client, self._table, item, "version = :v", values={":v": sync.version})

    @staticmethod
    def _item(sync: InitialSync, version: int) -> dict[str, Any]:
        summary = (
            None
            if sync.summary is None
            else json.dumps({t: c.as_dict() for t, c in sync.summary.items()}, sort_keys=True)
        )
        return {
            **_key(sync.tenant_id),
            "step": sync.step.value,
            "version": version,
            "started_at": aware_timestamp(sync.started_at),
            "updated_at": aware_timestamp(sync.updated_at),
            "settings_version": sync.settings_version,
            "summary": summary,
            "progress_told_at": aware_timestamp(sync.progress_told_at) if sync.progress_told_at else None,
            "finished_at": aware_timestamp(sync.finished_at) if sync.finished_at else None,
        }
