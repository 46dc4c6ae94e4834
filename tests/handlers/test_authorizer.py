from __future__ import annotations

import json
import logging
import threading

import boto3
import pytest

from local.aws import LocalStack
from local.lambdas import LocalFunction
from qbsync.adapters.clock import SystemClock
from qbsync.adapters.dynamodb import DynamoApiKeyRepository
from qbsync.usecases.apikeys import issue_api_key
from tests.conftest import load_event


@pytest.fixture
def key(aws_env: LocalStack) -> str:
    plaintext, _ = issue_api_key(
        DynamoApiKeyRepository(boto3.client("dynamodb"), str(aws_env.ref("Table"))), SystemClock(), "host-app"
    )
    return plaintext


def test_a_stored_key_is_authorized_with_its_id_in_the_context(
    functions: dict[str, LocalFunction], key: str
) -> None:
    event = load_event("authorizer_request.json")
    event["headers"]["authorization"] = f"Bearer {key}"
    result = functions["AuthorizerFunction"].invoke(event)
    assert result == {"isAuthorized": True, "context": {"key_id": key.split("_")[1], "key_label": "host-app"}}


@pytest.mark.parametrize("header", ["Bearer qbs_0a1b2c3d4e5f_wrong", "", "Basic Zm9vOmJhcg=="])
def test_other_keys_are_refused(functions: dict[str, LocalFunction], key: str, header: str) -> None:
    event = load_event("authorizer_request.json")
    event["headers"]["authorization"] = header
    assert functions["AuthorizerFunction"].invoke(event) == {"isAuthorized": False}


def test_the_sample_event_key_is_not_valid(functions: dict[str, LocalFunction], key: str) -> None:
    assert functions["AuthorizerFunction"].invoke(load_event("authorizer_request.json")) == {
        "isAuthorized": False
    }


def test_the_key_never_reaches_the_logs(
    functions: dict[str, LocalFunction], key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    event = load_event("authorizer_request.json")
    event["headers"]["authorization"] = f"Bearer {key}"
    functions["AuthorizerFunction"].invoke(event)
    event["headers"]["authorization"] = f"Bearer {key}x"
    functions["AuthorizerFunction"].invoke(event)
    # This thread's records only: a stack another test started may still be stopping in the background.
    ours = [
        r.getMessage() for r in caplog.records if r.name == "authorizer" and r.thread == threading.get_ident()
    ]
    assert ours == ["API key accepted", "API key refused"]
    everything = json.dumps([r.__dict__ for r in caplog.records], default=str)
    _, key_id, secret = key.split("_", 2)  # the secret may itself hold "_" (URL-safe base64)
    assert key_id in everything  # the key id is logged ...
    assert secret not in everything  # ... its secret part never
