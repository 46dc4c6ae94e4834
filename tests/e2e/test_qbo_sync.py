"""The whole loop on the local stack as `make run` starts it: records pushed through the HTTP API are sent
by the worker to the QuickBooks Online sandbox; a payment entered in QuickBooks comes back as one
`payment.received` event in the tenant's feed, through the webhook, and with webhooks off, through the
scheduled pull."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from local import stack as local_stack
from local.connect import connect_qbo
from local.stack import LOCAL_QBO_CLIENT_ID

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
TENANT = "loop"


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[local_stack.RunningStack, str]]:
    saved = dict(os.environ)
    stack = local_stack.start(port=0, aws_port=0, qbo_port=0, run_consumers=True)
    realm = connect_qbo(stack, TENANT)
    yield stack, realm
    stack.stop()
    os.environ.clear()
    os.environ.update(saved)


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def api(stack: local_stack.RunningStack) -> httpx.Client:
    return httpx.Client(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {stack.api_key}"}, timeout=30
    )


def events(client: httpx.Client, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = client.get(
            f"/v1/tenants/{TENANT}/events", params={"limit": 500, **({"after": after} if after else {})}
        )
        page.raise_for_status()
        found += [e for e in page.json()["items"] if e["type"] == kind]
        after = page.json()["next_cursor"]
        if after is None:
            return found


def push_and_sync(client: httpx.Client, suffix: str) -> dict[str, str]:
    """A customer, an item and two invoices; once synced, their QuickBooks ids."""
    records = [
        ("customer", f"c-{suffix}", {"display_name": f"Payer {suffix}"}),
        ("item", f"i-{suffix}", {"kind": "service", "name": f"Repair {suffix}", "sales_price": "80"}),
    ] + [
        (
            "invoice",
            f"inv-{suffix}-{n}",
            {
                "customer_id": f"c-{suffix}",
                "doc_number": f"{suffix}-{n}",
                "lines": [{"item_id": f"i-{suffix}", "quantity": "1", "rate": "80"}],
            },
        )
        for n in (1, 2)
    ]
    return push_until_synced(client, TENANT, records)


Records = list[tuple[str, str, dict[str, Any]]]  # (record type, record id, body)


def push(client: httpx.Client, tenant: str, records: Records) -> None:
    for record_type, record_id, data in records:
        answer = client.put(f"/v1/tenants/{tenant}/records/{record_type}/{record_id}", json=data)
        assert answer.status_code == 201, answer.text


def push_until_synced(client: httpx.Client, tenant: str, records: Records) -> dict[str, str]:
    """Push the records, wait until each is synced; their QuickBooks ids by record id."""
    push(client, tenant, records)

    def synced() -> dict[str, str] | None:
        states = {
            rid: client.get(f"/v1/tenants/{tenant}/records/{rtype}/{rid}").json() for rtype, rid, _ in records
        }
        if all(s["state"] == "synced" for s in states.values()):
            return {rid: s["quickbooks_id"] for rid, s in states.items()}
        return None

    return wait_for(synced, f"{tenant}'s records to be synced")  # type: ignore[no-any-return]


def enter_payment(stack: local_stack.RunningStack, realm: str, ids: dict[str, str], suffix: str) -> str:
    body = {
        "CustomerRef": {"value": ids[f"c-{suffix}"]},
        "TotalAmt": 130,
        "Line": [
            {"Amount": 80, "LinkedTxn": [{"TxnId": ids[f"inv-{suffix}-1"], "TxnType": "Invoice"}]},
            {"Amount": 50, "LinkedTxn": [{"TxnId": ids[f"inv-{suffix}-2"], "TxnType": "Invoice"}]},
        ],
    }
    answer = httpx.post(f"{stack.qbo.url}/_sandbox/companies/{realm}/entities/Payment", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["Payment"]["Id"])


def test_a_payment_entered_in_quickbooks_reaches_the_host_app_through_the_webhook(running) -> None:  # type: ignore[no-untyped-def]
    stack, realm = running
    client = api(stack)
    ids = push_and_sync(client, "w")
    payment_id = enter_payment(stack, realm, ids, "w")

    def received() -> list[dict[str, Any]]:
        return [
            e
            for e in events(client, "payment.received")
            if e["detail"]["quickbooks_payment_id"] == payment_id
        ]

    [event] = wait_for(received, "payment.received from the webhook")
    assert event["detail"]["invoice_ids"] == ["inv-w-1", "inv-w-2"]
    assert event["detail"]["customer_id"] == "c-w"
    assert event["detail"]["total_amount"] == "130.00"
    synced = [e["detail"]["record_id"] for e in events(client, "record.synced")]
    assert {"c-w", "i-w", "inv-w-1", "inv-w-2"} <= set(synced)
    # Webhooks for the app's own invoices were routed too, and told nothing: only the payment is news.
    time.sleep(1.5)
    assert len(received()) == 1


def test_with_webhooks_off_the_scheduled_pull_tells_it(running) -> None:  # type: ignore[no-untyped-def]
    stack, realm = running
    client = api(stack)
    httpx.post(
        f"{stack.qbo.url}/_sandbox/apps/{LOCAL_QBO_CLIENT_ID}/webhooks", json={"url": None}
    ).raise_for_status()
    ids = push_and_sync(client, "p")
    payment_id = enter_payment(stack, realm, ids, "p")
    time.sleep(1.5)  # no webhook comes
    assert not [
        e for e in events(client, "payment.received") if e["detail"]["quickbooks_payment_id"] == payment_id
    ]
    [pull] = [s for s in stack.schedules if s.schedule.name == "PaymentsPull"]
    assert pull.fire()["jobs_sent"] == 1

    def received() -> list[dict[str, Any]]:
        return [
            e
            for e in events(client, "payment.received")
            if e["detail"]["quickbooks_payment_id"] == payment_id
        ]

    [event] = wait_for(received, "payment.received from the pull")
    assert event["detail"]["invoice_ids"] == ["inv-p-1", "inv-p-2"]
    pull.fire()
    time.sleep(1.5)
    assert len(received()) == 1  # the next pull overlaps, and tells nothing twice


def test_records_pushed_before_the_tenant_connects_wait_then_go(running) -> None:  # type: ignore[no-untyped-def]
    stack, _ = running
    client = api(stack)
    assert (
        client.post("/v1/tenants", json={"id": "early", "name": "Early", "edition": "qbo"}).status_code == 201
    )
    path = "/v1/tenants/early/records/customer/c-1"
    assert client.put(path, json={"display_name": "Early Bird"}).status_code == 201
    # An invoice of that customer waits for the connection too, and says so.
    invoice = "/v1/tenants/early/records/invoice/inv-1"
    assert (
        client.put("/v1/tenants/early/records/item/i-1", json={"kind": "service", "name": "Nest"}).status_code
        == 201
    )
    body = {"customer_id": "c-1", "lines": [{"item_id": "i-1", "quantity": "1", "rate": "9"}]}
    assert client.put(invoice, json=body).status_code == 201

    def waiting() -> list[dict[str, Any]] | None:
        records: list[dict[str, Any]] = [client.get(p).json() for p in (path, invoice)]
        return records if all(r["waiting_for"] == ["connection"] for r in records) else None

    for record in wait_for(waiting, "the records to wait for the connection"):
        assert record["state"] == "pending"
        assert "connect" in record["history"][-1]["detail"]
    connect_qbo(stack, "early", register=False)
    synced = wait_for(lambda: client.get(invoice).json()["state"] == "synced", "the invoice to be synced")
    assert synced
    assert client.get(path).json()["quickbooks_id"]
