"""DynamoDB transactions in moto as the local stack needs them: about as fast as other writes, and isolated.

moto (5.x) backs up the whole table with `copy.deepcopy` for every action of a TransactWriteItems, so that it
can roll a cancelled one back: with 2,000 items in the table, one transaction of 60 puts took 25 s, and the
time grows with the table. Put and Delete replace an item in the table's index rather than change it, so for
transactions of Put, Delete and ConditionCheck actions a copy of the index is as good a backup; `apply` swaps
that in. moto also lets a transaction run beside other requests of other threads (its backup then fails with
"dictionary changed size during iteration", and its rollback would drop their writes); DynamoDB isolates a
transaction, so `apply` runs each DynamoDB request of moto alone.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from typing import Any

from moto.dynamodb import models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

_REPLACING = frozenset({"Put", "Delete", "ConditionCheck"})  # actions that never change an item in place
_one_at_a_time = threading.RLock()
_index_backup = threading.local()


class _Copy:
    """The `copy` module as moto's DynamoDB models see it: a table's backup during a transaction of replacing
    actions copies its index, not its items; everything else is the real `copy`."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table) and getattr(_index_backup, "on", False):
            backup = copy.copy(value)
            items: defaultdict[Any, Any] = defaultdict(dict)
            for hash_key, entry in value.items.items():
                items[hash_key] = dict(entry) if isinstance(entry, dict) else entry
            backup.items = items
            return backup
        return copy.deepcopy(value, memo)


def apply() -> None:
    """Patch moto's DynamoDB (idempotent). Only for the local stack and tests; nothing deployed runs moto."""
    if getattr(DynamoDBBackend.transact_write_items, "_local", False):
        return
    original_transact = DynamoDBBackend.transact_write_items
    original_call = DynamoHandler.call_action

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        _index_backup.on = all(set(item) <= _REPLACING for item in transact_items)
        try:
            original_transact(self, transact_items)
        finally:
            _index_backup.on = False

    def call_action(self: DynamoHandler) -> Any:
        with _one_at_a_time:
            return original_call(self)

    transact_write_items._local = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    models.copy = _Copy()  # type: ignore[assignment]
