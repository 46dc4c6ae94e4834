"""QboWebhookFunction as Lambda loads it, fed the events/ samples, with the template's resources in moto.

The samples in events/ are signed with EXAMPLE_VERIFIER_TOKEN: put it in the verifier secret to replay them
(`sam local invoke` against a deployed secret holding Intuit's real token answers 403, as it should).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from local.lambdas import LocalFunction
from tests.conftest import load_event

EXAMPLE_VERIFIER_TOKEN = "qbsync-example-verifier-token"  # signs events/qbo_webhook_*.json
REALM = "9341453050298464"  # the company both sample events are about
TENANT = "acme-42"


@pytest.fixture
def webhook(functions: dict[str, LocalFunction]) -> Iterator[LocalFunction]:
    parameters.clear_caches()  # Powertools keeps secrets for 5 minutes across invocations
    boto3.client("secretsmanager").put_secret_value(
        SecretId=os.environ["WEBHOOK_VERIFIER_SECRET_ID"],
        SecretString=json.dumps({"verifier_token": EXAMPLE_VERIFIER_TOKEN}),
    )
    yield functions["QboWebhookFunction"]
    parameters.clear_caches()


@pytest.fixture
def connected_realm(aws_env: object) -> None:
    """What connecting a tenant's QuickBooks Online company leaves in the table (written by a later issue)."""
    boto3.client("dynamodb").put_item(
        TableName=os.environ["TABLE_NAME"],
        Item={"pk": {"S": f"REALM#{REALM}"}, "sk": {"S": "REALM"}, "tenant_id": {"S": TENANT}},
    )


def queued_jobs() -> list[dict[str, Any]]:
    """Every job on the queue (made visible again, so nothing is hidden from a later call)."""
    sqs = boto3.client("sqs")
    url = os.environ["JOBS_QUEUE_URL"]
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageAttributeNames=["All"]
    ).get("Messages", []):
        new = [m for m in batch if m["MessageId"] not in {x["MessageId"] for x in messages}]
        if not new:
            break
        messages.extend(new)
    return messages


def signed(event: dict[str, Any], body: bytes, token: str = EXAMPLE_VERIFIER_TOKEN) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["body"] = body.decode()
    event["headers"]["content-length"] = str(len(body))
    event["headers"]["intuit-signature"] = base64.b64encode(
        hmac.new(token.encode(), body, hashlib.sha256).digest()
    ).decode()
    return event


def assert_problem(response: dict[str, Any], status: int) -> dict[str, Any]:
    assert response["statusCode"] == status
    assert response["headers"]["content-type"] == "application/problem+json"
    problem = json.loads(response["body"])
    assert set(problem) == {"type", "title", "status", "detail"}
    assert problem["status"] == status
    return problem


def test_cloudevents_sample_enqueues_one_job_per_entity_type(
    webhook: LocalFunction, connected_realm: None
) -> None:
    response = webhook.invoke(load_event("qbo_webhook_cloudevents.json"))

    assert response == {"statusCode": 200, "body": ""}
    messages = queued_jobs()
    assert [m["MessageAttributes"]["kind"]["StringValue"] for m in messages] == ["qbo.entity_changed"] * 2
    jobs = sorted((json.loads(m["Body"]) for m in messages), key=lambda j: j["payload"]["entity"])
    assert [j["tenant_id"] for j in jobs] == [TENANT, TENANT]
    assert [j["payload"] for j in jobs] == [
        {
            "realm_id": REALM,
            "entity": "Customer",
            "changes": [
                {
                    "entity_id": "58",
                    "operation": "Update",
                    "event_id": "a37e8f40-91c2-4d5b-8e6f-0c1d2e3f4a5b",
                    "last_updated": "2026-11-23T11:02:33.017554+00:00",
                }
            ],
        },
        {
            "realm_id": REALM,
            "entity": "Invoice",
            "changes": [
                {
                    "entity_id": "1042",
                    "operation": "Create",
                    "event_id": "5f0d6c1e-2b7a-4c8e-9d3f-7a1b2c3d4e5f",
                    "last_updated": "2026-11-23T11:02:31.482917+00:00",
                }
            ],
        },
    ]


def test_legacy_sample_enqueues_one_job_per_entity_type(
    webhook: LocalFunction, connected_realm: None
) -> None:
    assert webhook.invoke(load_event("qbo_webhook_legacy.json"))["statusCode"] == 200
    payloads = sorted((json.loads(m["Body"])["payload"] for m in queued_jobs()), key=lambda p: p["entity"])
    changes = [
        (p["entity"], c["entity_id"], c["operation"], c["event_id"]) for p in payloads for c in p["changes"]
    ]
    assert [change[:3] for change in changes] == [("Invoice", "1042", "Update"), ("Payment", "311", "Create")]
    assert all(change[3].startswith("legacy-") for change in changes)


def test_second_delivery_of_the_same_events_enqueues_nothing_new(
    webhook: LocalFunction, connected_realm: None
) -> None:
    event = load_event("qbo_webhook_cloudevents.json")
    assert webhook.invoke(event)["statusCode"] == 200
    assert len(queued_jobs()) == 2
    assert webhook.invoke(event) == {"statusCode": 200, "body": ""}
    assert len(queued_jobs()) == 2


def test_tampered_body_is_refused(webhook: LocalFunction, connected_realm: None) -> None:
    event = load_event("qbo_webhook_cloudevents.json")
    event["body"] = event["body"].replace('"intuitentityid":"1042"', '"intuitentityid":"1043"')
    assert '"1043"' in event["body"]

    problem = assert_problem(webhook.invoke(event), 403)

    assert problem["title"] == "Forbidden"
    assert "intuit-signature" in problem["detail"]
    assert queued_jobs() == []


def test_missing_signature_is_refused(webhook: LocalFunction, connected_realm: None) -> None:
    event = load_event("qbo_webhook_legacy.json")
    del event["headers"]["intuit-signature"]
    assert_problem(webhook.invoke(event), 403)
    assert queued_jobs() == []


def test_signature_with_another_token_is_refused(webhook: LocalFunction, connected_realm: None) -> None:
    event = load_event("qbo_webhook_legacy.json")
    forged = signed(event, event["body"].encode(), token="not-the-apps-token")
    assert_problem(webhook.invoke(forged), 403)
    assert queued_jobs() == []


def test_base64_encoded_cloudevents_body_is_verified_on_its_bytes(
    webhook: LocalFunction, connected_realm: None
) -> None:
    # API Gateway base64-encodes bodies it does not treat as text, such as application/cloudevents+json.
    event = load_event("qbo_webhook_cloudevents.json")
    event["headers"]["content-type"] = "application/cloudevents+json"
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True

    assert webhook.invoke(event)["statusCode"] == 200
    assert len(queued_jobs()) == 2


def test_unknown_realm_is_acknowledged_and_nothing_enqueued(webhook: LocalFunction) -> None:
    assert webhook.invoke(load_event("qbo_webhook_cloudevents.json")) == {"statusCode": 200, "body": ""}
    assert queued_jobs() == []


def test_unparseable_signed_body_is_acknowledged_and_logged_as_an_error(
    webhook: LocalFunction, connected_realm: None, caplog: pytest.LogCaptureFixture
) -> None:
    # Intuit: never answer 400, it holds later deliveries back until one is acknowledged.
    event = signed(load_event("qbo_webhook_legacy.json"), b'{"eventNotifications": [truncated')
    assert webhook.invoke(event) == {"statusCode": 200, "body": ""}
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == ["signed webhook unreadable; acknowledged"]
    assert errors[0].reason == "The body is not JSON: Expecting value at line 1, column 25."
    assert queued_jobs() == []


@pytest.mark.parametrize("depth", [33, 100_000])
def test_a_signed_body_nested_too_deep_is_acknowledged_and_logged_as_an_error(
    webhook: LocalFunction, connected_realm: None, caplog: pytest.LogCaptureFixture, depth: int
) -> None:
    body = b'{"eventNotifications": ' + b"[" * depth + b"]" * depth + b"}"
    event = signed(load_event("qbo_webhook_legacy.json"), body)
    assert webhook.invoke(event) == {"statusCode": 200, "body": ""}
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == ["signed webhook unreadable; acknowledged"]
    assert errors[0].reason == "The body is nested more than 32 levels deep; at most 32 are accepted."
    assert queued_jobs() == []


def test_neither_token_nor_signature_is_logged(
    webhook: LocalFunction,
    connected_realm: None,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        logging.getLogger("qbsync"), "propagate", True
    )  # Powertools stops it; caplog is on root
    caplog.set_level(logging.DEBUG, logger="qbsync")
    caplog.set_level(logging.DEBUG, logger="qbo-webhook")  # the function's service name
    good = load_event("qbo_webhook_cloudevents.json")
    bad = load_event("qbo_webhook_legacy.json")
    bad["headers"]["intuit-signature"] = "AAAAsomethingForgedAAAAAAAAAAAAAAAAAAAAAAA="
    unknown = load_event("qbo_webhook_legacy.json")
    unknown["body"] = unknown["body"].replace(REALM, "310687")
    unknown = signed(unknown, unknown["body"].encode())
    for event in (good, bad, unknown):
        webhook.invoke(event)

    ours = [r for r in caplog.records if r.name.split(".")[0] in ("qbsync", "qbo-webhook")]
    messages = [r.getMessage() for r in ours]
    assert "webhook accepted" in messages  # the handler's and the use case's records were captured at all
    assert "webhook refused" in messages
    assert "webhook for a realm no tenant has connected" in messages
    everything = "\n".join(f"{r.getMessage()} {vars(r)}" for r in ours)
    for secret in (
        EXAMPLE_VERIFIER_TOKEN,
        good["headers"]["intuit-signature"],
        bad["headers"]["intuit-signature"],
        unknown["headers"]["intuit-signature"],
    ):
        assert secret not in everything
