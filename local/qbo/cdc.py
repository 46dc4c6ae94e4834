"""Change data capture: `GET /cdc?entities=A,B&changedSince=<ISO>` (NOTES §3.3, cdc__basic__0).

Every record of the named entities changed since the given time, inactive ones included, and the deleted ones
as `{"domain":"QBO","status":"Deleted","Id":..,"MetaData":{"LastUpdatedTime":..}}`; at most 1000 objects and
no paging; a look-back of at most 30 days.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from local.qbo import faults
from local.qbo.engine import Ledger
from local.qbo.entities import COMPANY_TZ, spec_named
from local.qbo.state import Entity

MAX_OBJECTS = 1000
LOOK_BACK = timedelta(days=30)


def changes(ledger: Ledger, entities: str, changed_since: str) -> dict[str, Any]:
    names = [name.strip() for name in entities.split(",") if name.strip()]
    if not names:
        raise faults.required_param("entities")
    if not changed_since.strip():
        raise faults.required_param("changedSince")
    since = _instant(changed_since)
    if since < ledger.now - LOOK_BACK:
        raise faults.unsupported_operation(
            f"Operation cdc with changedSince date {changed_since} which is older than fixed days is not "
            "supported."
        )
    specs = []
    for name in names:
        spec = spec_named(name)
        if spec is None or not spec.cdc:
            raise faults.unsupported_operation(f"Operation cdc is not supported for entity {name}.")
        specs.append(spec)
    room = MAX_OBJECTS
    responses: list[dict[str, Any]] = []
    for spec in specs:
        changed = [*ledger.all(spec.name), *ledger.company.deleted.get(spec.name, {}).values()]
        found = sorted((e for e in changed if _updated(e) >= since), key=_updated)[:room]
        room -= len(found)
        responses.append({spec.name: found, "startPosition": 1, "maxResults": len(found)} if found else {})
    return {"CDCResponse": [{"QueryResponse": responses}]}


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "+"))  # an unencoded + arrives as a space
    except ValueError:
        raise faults.unsupported_operation(
            f"Operation cdc with changedSince date {text} is not supported."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=COMPANY_TZ)


def _updated(entity: Entity) -> datetime:
    return datetime.fromisoformat(entity["MetaData"]["LastUpdatedTime"])
