"""payment_methods_to_sync on sending, through the HTTP API of the local stack, for both editions: a payment
pushed with a method the settings leave out is `ignored` (listed by that state, never in QuickBooks); once the
settings allow the method, sending it (POST /sync) puts it in QuickBooks."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from local import stack as local_stack
from local.connect import connect_qbo

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ONLINE = "methods-qbo"


@pytest.fixture(scope="module")
def running() -> Iterator[local_stack.RunningStack]:
    saved = dict(os.environ)
    stack = local_stack.start(port=0, aws_port=0, qbo_port=0, run_consumers=True)
    yield stack
    stack.stop()
    os.environ.clear()
    os.environ.update(saved)


def api(stack: local_stack.RunningStack) -> httpx.Client:
    return httpx.Client(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {stack.api_key}"}, timeout=30
    )


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def use_methods(client: httpx.Client, tenant: str, methods: list[str]) -> None:
    current = client.get(f"/v1/tenants/{tenant}/settings").json()
    settings = {**current["settings"], "payment_methods_to_sync": methods}
    answer = client.put(
        f"/v1/tenants/{tenant}/settings", json=settings, headers={"If-Match": f'"{current["version"]}"'}
    )
    assert answer.status_code == 200, answer.text


def push(client: httpx.Client, tenant: str) -> None:
    """A customer, an item, an invoice, and two payments of it: by check and in cash."""
    records = [
        ("customer", "c-1", {"display_name": "Method Payer"}),
        ("item", "i-1", {"kind": "service", "name": "Method Repair"}),
        ("invoice", "inv-1", {"customer_id": "c-1", "lines": [{"item_id": "i-1", "amount": "100"}]}),
    ] + [
        (
            "payment",
            f"p-{method.lower()}",
            {
                "customer_id": "c-1",
                "total_amount": "40",
                "method": method,
                "applications": [{"invoice_id": "inv-1", "amount": "40"}],
            },
        )
        for method in ("Check", "Cash")
    ]
    for record_type, record_id, data in records:
        answer = client.put(f"/v1/tenants/{tenant}/records/{record_type}/{record_id}", json=data)
        assert answer.status_code == 201, answer.text


def state(client: httpx.Client, tenant: str, record_id: str) -> str:
    return str(client.get(f"/v1/tenants/{tenant}/records/payment/{record_id}").json()["state"])


def ignored(client: httpx.Client, tenant: str) -> list[str]:
    page = client.get(f"/v1/tenants/{tenant}/records/payment", params={"state": "ignored"})
    assert page.status_code == 200, page.text
    return [r["id"] for r in page.json()["items"]]


def send_cash(client: httpx.Client, tenant: str) -> None:
    answer = client.post(
        f"/v1/tenants/{tenant}/sync", json={"records": [{"type": "payment", "id": "p-cash"}]}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["status"] == "updated"


def test_on_quickbooks_online_a_payment_of_a_method_left_out_is_ignored_until_the_settings_allow_it(
    running: local_stack.RunningStack,
) -> None:
    realm = connect_qbo(running, ONLINE)
    client = api(running)
    use_methods(client, ONLINE, ["check"])
    push(client, ONLINE)
    wait_for(lambda: state(client, ONLINE, "p-check") == "synced", "the check payment to be synced")
    wait_for(lambda: state(client, ONLINE, "p-cash") == "ignored", "the cash payment to be ignored")
    assert ignored(client, ONLINE) == ["p-cash"]
    record = client.get(f"/v1/tenants/{ONLINE}/records/payment/p-cash").json()
    assert "payment_methods_to_sync" in record["history"][-1]["detail"]

    def in_quickbooks() -> list[dict[str, Any]]:
        url = f"{running.qbo.url}/_sandbox/companies/{realm}/entities/Payment"
        return httpx.get(url).json()["Payment"]  # type: ignore[no-any-return]

    assert len(in_quickbooks()) == 1
    use_methods(client, ONLINE, ["check", "cash"])
    send_cash(client, ONLINE)
    wait_for(lambda: state(client, ONLINE, "p-cash") == "synced", "the cash payment to be synced")
    assert len(in_quickbooks()) == 2
    assert ignored(client, ONLINE) == []


def test_on_quickbooks_desktop_a_payment_of_a_method_left_out_is_ignored_until_the_settings_allow_it(
    running: local_stack.RunningStack,
) -> None:
    demo = local_stack.start_desktop_demo(running, run_on_schedule=False)
    connector = running.qbd.desktop.connectors[demo.connector_id]
    tenant = demo.tenant_id
    client = api(running)
    use_methods(client, tenant, ["Check"])
    push(client, tenant)
    connector.run_once()
    assert (state(client, tenant, "p-check"), state(client, tenant, "p-cash")) == ("synced", "ignored")
    assert ignored(client, tenant) == ["p-cash"]
    payments = [o for o in connector.company.objects.values() if o.spec.kind == "ReceivePayment"]
    assert len(payments) == 1
    use_methods(client, tenant, ["Check", "Cash"])
    send_cash(client, tenant)
    connector.run_once()
    assert state(client, tenant, "p-cash") == "synced"
    payments = [o for o in connector.company.objects.values() if o.spec.kind == "ReceivePayment"]
    assert len(payments) == 2
