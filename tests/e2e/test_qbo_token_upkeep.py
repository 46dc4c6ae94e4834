"""Token upkeep with the real adapters: DynamoDB leases in moto, intuit-oauth against the QBO sandbox."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

import boto3
import httpx
import pytest

from local import stack as local_stack
from local.connect import connect_qbo
from qbsync import composition
from qbsync.domain.connections import ConnectionStatus, NotConnectedError, TokenSet

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def connect(stack: local_stack.RunningStack, tenant_id: str) -> None:
    connect_qbo(stack, tenant_id)


def expire_everywhere(stack: local_stack.RunningStack, tenant_id: str) -> None:
    """The hour has passed: Intuit refuses the access token and qbsync's record says it expired."""
    stack.qbo.sandbox.expire_tokens()
    tokens = composition.container().qbo_tokens
    current = tokens.load(tenant_id)
    assert current is not None
    past = current.access_expires_at - timedelta(hours=2)
    assert tokens.save(tenant_id, replace(current, access_expires_at=past), current.version)


def refreshes(stack: local_stack.RunningStack) -> int:
    return sum(1 for r in stack.qbo.sandbox.token_requests if r["grant_type"] == "refresh_token")


def test_fifty_concurrent_callers_with_an_expired_token_cause_one_refresh(
    running: local_stack.RunningStack,
) -> None:
    connect(running, "t50")
    expire_everywhere(running, "t50")
    before = refreshes(running)
    results: list[TokenSet] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(50)

    def call() -> None:
        barrier.wait()
        try:
            results.append(composition.container().token_keeper.access_token("t50"))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(results) == 50
    assert refreshes(running) - before == 1
    assert len({r.access_token for r in results}) == 1
    realm = results[0].realm_id
    info = httpx.get(
        f"{running.qbo.url}/v3/company/{realm}/companyinfo/{realm}",
        headers={"Authorization": f"Bearer {results[0].access_token}", "Accept": "application/json"},
    )
    assert info.status_code == 200


def test_a_refresh_token_invalidated_elsewhere_leads_to_needs_reauth_and_one_event(
    running: local_stack.RunningStack,
) -> None:
    events = boto3.client("events")
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="connection-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = os.environ["EVENT_BUS_NAME"]
    events.put_rule(
        Name="connection-changed",
        EventBusName=bus,
        EventPattern=json.dumps({"source": ["qbsync"], "detail-type": ["connection.changed"]}),
    )
    events.put_targets(Rule="connection-changed", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    connect(running, "gone")
    sb = running.qbo.sandbox
    with sb.lock:  # the tenant disconnects the app inside QuickBooks: Intuit invalidates its tokens
        for refresh in sb.refresh_tokens.values():
            sb.revoke_family(refresh)
    expire_everywhere(running, "gone")
    before = refreshes(running)
    keeper = composition.container().token_keeper
    for _ in range(3):
        with pytest.raises(NotConnectedError):
            keeper.access_token("gone")
    assert refreshes(running) - before == 1
    assert composition.container().connections.get("gone").status is ConnectionStatus.NEEDS_REAUTH

    details = []
    while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages"
    ):
        details += [json.loads(m["Body"])["detail"] for m in batch]
        sqs.delete_message_batch(
            QueueUrl=queue,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )
    assert [(d["tenant_id"], d["status"]) for d in details] == [
        ("gone", "connecting"),
        ("gone", "connected"),
        ("gone", "needs_reauth"),
    ]
    assert details[-1]["last_error"]["code"] == "invalid_grant"
    headers = {"Authorization": f"Bearer {running.api_key}"}
    connection = httpx.get(f"{running.api_url}/v1/tenants/gone/connection", headers=headers).json()
    assert connection["status"] == "needs_reauth"
    assert "connect" in connection["last_error"]["action"]
    assert urlsplit(running.api_url).hostname == "127.0.0.1"


def test_the_daily_schedule_keeps_idle_refresh_tokens_alive(running: local_stack.RunningStack) -> None:
    connect(running, "idle")
    while running.pollers[0].poll_once():  # what connecting queued (reads of the lists) goes first
        pass
    tokens = composition.container().qbo_tokens
    current = tokens.load("idle")
    assert current is not None
    rested = replace(current, refreshed_at=current.refreshed_at - timedelta(days=8))  # type: ignore[operator]
    assert tokens.save("idle", rested, current.version)
    before = refreshes(running)

    result = running.functions["SchedulerFunction"].invoke({"task": "token_upkeep"})
    assert result["jobs_sent"] >= 1  # one per connected tenant
    while running.pollers[0].poll_once():  # the worker takes the jobs as Lambda's poller would
        pass

    after = tokens.load("idle")
    assert after is not None
    assert after.version == current.version + 1
    assert after.refresh_token != current.refresh_token
    assert refreshes(running) - before == 1  # the other tenants were refreshed recently: left alone


def test_a_change_in_quickbooks_reaches_the_queue_through_a_signed_webhook(
    running: local_stack.RunningStack,
) -> None:
    connect(running, "hooked")
    realm = composition.container().connections.get("hooked").realm_id
    assert realm is not None
    changed = httpx.post(
        f"{running.qbo.url}/_sandbox/companies/{realm}/changes",
        json={"entity": "Payment", "id": "4242", "operation": "Create"},
    )
    assert changed.status_code < 300, changed.text
    assert running.qbo.webhooks.wait_idle(timeout=15)
    deliveries = httpx.get(f"{running.qbo.url}/_sandbox/webhooks/deliveries").json()
    assert deliveries, "the sandbox sent nothing"
    sqs = boto3.client("sqs")
    bodies = [
        json.loads(m["Body"])
        for m in sqs.receive_message(
            QueueUrl=os.environ["JOBS_QUEUE_URL"], MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
    ]
    jobs = [b for b in bodies if b["kind"] == "qbo.entity_changed"]
    assert [
        (j["tenant_id"], j["payload"]["entity"], [c["entity_id"] for c in j["payload"]["changes"]])
        for j in jobs
    ] == [("hooked", "Payment", ["4242"])]


def test_the_discovery_document_is_read_once_per_container(running: local_stack.RunningStack) -> None:
    # Every test above connected a tenant and refreshed tokens through the same container.
    assert len(running.qbo.sandbox.token_requests) >= 5
    assert running.qbo.sandbox.discovery_requests == 1
