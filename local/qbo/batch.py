"""`POST /batch`: up to 30 create, update, delete, void (`operation: update` + `optionsData: void`) or query
items, run in order, each answered on its own: a failing item is a Fault inside the HTTP 200
(batch__basic__0).
"""

from __future__ import annotations

import copy
from typing import Any

from local.qbo import faults
from local.qbo.engine import Ledger
from local.qbo.entities import spec_named

MAX_ITEMS = 30  # NOTES §3.4: Intuit blog 2023-07-19, .NET SDK "Batch item limit updated to 30"
ITEM_KEYS = frozenset({"bId", "operation", "optionsData"})


def run(ledger: Ledger, body: dict[str, Any]) -> dict[str, Any]:
    items = body.get("BatchItemRequest")
    if not isinstance(items, list) or not items:
        raise faults.required_param("BatchItemRequest")
    if len(items) > MAX_ITEMS:
        raise faults.batch_too_large(len(items), MAX_ITEMS)
    return {"BatchItemResponse": [_item(ledger, item) for item in items]}


def _item(ledger: Ledger, item: Any) -> dict[str, Any]:
    bid = item.get("bId") if isinstance(item, dict) else None
    try:
        return {**_answer(ledger, item), "bId": bid}
    except faults.QboError as error:
        return {**error.item(), "bId": bid}


def _answer(ledger: Ledger, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise faults.unreadable_body("BatchItemRequest")
    if "Query" in item:
        return {"QueryResponse": ledger.query(str(item["Query"]))}
    names = [key for key in item if key not in ITEM_KEYS]
    if len(names) != 1:
        raise faults.unreadable_body("BatchItemRequest")
    spec = spec_named(names[0])
    if spec is None or not isinstance(item[names[0]], dict):
        raise faults.unrecognized_property(names[0], "BatchItemRequest", sorted(ITEM_KEYS | {"Query"}))
    body = item[names[0]]
    operation = str(item.get("operation", "")).lower()
    if operation == "delete":
        result = ledger.delete(spec, body)
    elif operation == "update" and str(item.get("optionsData", "")).lower() == "void":
        result = ledger.void(spec, body)
    elif operation in ("create", "update"):
        result = ledger.save(spec, body)
    else:
        raise faults.unsupported_operation(f"Operation {item.get('operation')} is not supported.")
    return {spec.name: copy.deepcopy(result)}
