"""DynamoDB storage of a Desktop tenant's last exchange with QuickBooks (the message its Web Connector took).

One item per tenant, in the one table: pk `TENANT#{tenant_id}`, sk `QBD#EXCHANGE`: exchange_id, ticket_digest,
state, sent_at, entries_z (the requests, JSON, zlib) and answer_z (QuickBooks' answer, zlib, once stored).
Compressed, so that an item stays far below DynamoDB's 400 KB: a 250-request message's entries take about
35 kB as JSON and its trimmed answer about 90 kB, a tenth of that compressed. Every change is conditional on
the exchange id and state read, so two callbacks never both store an answer or both close an exchange.
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from qbsync.adapters.dynamodb import aware_timestamp, read_item, to_item, update_if
from qbsync.domain.desktop import Asked, Exchange, ExchangeEntry, ExchangeState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

EXCHANGE_SK = "QBD#EXCHANGE"


def exchange_key(tenant_id: str) -> dict[str, str]:
    return {"pk": f"TENANT#{tenant_id}", "sk": EXCHANGE_SK}


def _packed(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _unpacked(value: Any) -> Any:
    return json.loads(zlib.decompress(bytes(value)).decode("utf-8"))


class DynamoExchangeStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def current(self, tenant_id: str) -> Exchange | None:
        values = read_item(self._client, self._table, exchange_key(tenant_id))
        if not values:
            return None
        entries = tuple(
            ExchangeEntry(**{**entry, "asked": Asked(entry["asked"])})
            for entry in _unpacked(values["entries_z"])
        )
        answer = values.get("answer_z")
        return Exchange(
            tenant_id=tenant_id,
            exchange_id=str(values["exchange_id"]),
            ticket_digest=str(values["ticket_digest"]),
            state=ExchangeState(str(values["state"])),
            sent_at=datetime.fromisoformat(str(values["sent_at"])),
            entries=entries,
            answer=None if answer is None else zlib.decompress(bytes(answer)).decode("utf-8"),
        )

    def put(self, exchange: Exchange) -> None:
        item = {
            **exchange_key(exchange.tenant_id),
            "exchange_id": exchange.exchange_id,
            "ticket_digest": exchange.ticket_digest,
            "state": exchange.state.value,
            "sent_at": aware_timestamp(exchange.sent_at),
            "entries_z": _packed([dataclasses.asdict(entry) for entry in exchange.entries]),
        }
        self._client.put_item(TableName=self._table, Item=to_item(item))

    def answer(self, tenant_id: str, exchange_id: str, answer: str) -> bool:
        return self._update(
            tenant_id,
            "SET #state = :answered, answer_z = :answer",
            "exchange_id = :id AND #state IN (:sent, :lost)",
            {
                ":answered": ExchangeState.ANSWERED.value,
                ":answer": zlib.compress(answer.encode("utf-8")),
                ":id": exchange_id,
                ":sent": ExchangeState.SENT.value,
                ":lost": ExchangeState.LOST.value,
            },
        )

    def close(self, tenant_id: str, exchange_id: str, state: ExchangeState) -> bool:
        if state not in (ExchangeState.APPLIED, ExchangeState.LOST):
            raise ValueError(f"an exchange is closed as applied or lost, not {state.value}")
        open_states = (ExchangeState.ANSWERED,) if state is ExchangeState.APPLIED else (ExchangeState.SENT,)
        return self._update(
            tenant_id,
            "SET #state = :closed",
            "exchange_id = :id AND #state = :open",
            {":closed": state.value, ":id": exchange_id, ":open": open_states[0].value},
        )

    def _update(self, tenant_id: str, update: str, condition: str, values: dict[str, Any]) -> bool:
        return update_if(
            self._client,
            self._table,
            exchange_key(tenant_id),
            update,
            condition,
            values=values,
            names={"#state": "state"},
        )
