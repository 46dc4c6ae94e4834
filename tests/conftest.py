"""Shared fixtures: moto in-process, provisioned from template.yaml; handlers loaded as Lambda loads them."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import boto3
import botocore.session
import pytest
from moto import mock_aws
from moto.kms import models as moto_kms_models

from local import aws as local_aws
from local import lambdas, moto_dynamodb
from local import template as tpl
from local.apigw import HttpApi, serve
from local.consumers import QueuePoller
from local.stack import issue_local_api_key, load_functions, shared_environment
from qbsync.adapters.qbxml import envelope
from tests import qbxml_reference

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
REFERENCE = ROOT.parent / "shared" / "reference"


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/ (the one source of sample payloads)."""
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with a `slow` test first: `-n auto --dist loadscope` hands modules to the workers in this
    order, so the long ones start at once and the short ones fill in around them, instead of one long
    module running alone at the end while the other worker idles."""
    slow = {item.module for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.module not in slow)


@pytest.fixture(autouse=True)
def _no_network(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests never reach the network; other suites may talk to loopback only."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if "unit" in request.node.nodeid.split("/"):
            raise RuntimeError(f"unit tests must not open sockets (tried {address!r})")
        if (
            isinstance(host, str)
            and host not in ("127.0.0.1", "localhost", "::1")
            and not host.startswith("/")
        ):
            raise RuntimeError(f"tests talk to loopback only (tried {address!r})")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _qbxml_messages_are_schema_valid() -> Iterator[None]:
    """Every qbXML message built during a test validates against Intuit's qbXML 13.0 schema, when the
    reference is checked out beside the project: the test fails naming the schema's errors. The schema is
    compiled once per process, and only once a test builds a message."""
    built: list[str] = []
    envelope.observers.append(built.append)
    try:
        yield
    finally:
        envelope.observers.remove(built.append)
    if not built or not qbxml_reference.XSD.is_file():
        return
    for number, text in enumerate(built, start=1):
        errors = qbxml_reference.schema_errors(text)
        if errors:
            pytest.fail(
                f"qbXML message {number} of {len(built)} built in this test breaks Intuit's schema:\n"
                + "\n".join(errors[:20])
                + f"\n--- the message ---\n{text[:4000]}",
                pytrace=False,
            )


# One botocore session for provisioning every test's moto: its loader keeps the service models it has read,
# so each test's clients are made without reading them from disk again.
_BOTOCORE = botocore.session.get_session()


class _ProvisioningSession(boto3.Session):
    """A session that makes each of provisioning's clients once for all tests: making one costs more than the
    calls it then makes, and moto intercepts a client's calls while a mock is on, whenever it was made."""

    _clients: ClassVar[dict[str, Any]] = {}

    def client(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        key = repr((args, sorted(kwargs.items())))
        if key not in self._clients:
            self._clients[key] = super().client(*args, **kwargs)
        return self._clients[key]


def _symmetric_key_without_rsa(key_spec: str) -> Any:
    """moto makes an RSA-2048 private key for every KMS key, a symmetric one too, where nothing uses it (a
    fifth of a second a test): a symmetric key gets one made once; the others, their own."""
    if key_spec == "SYMMETRIC_DEFAULT":
        return _SYMMETRIC_PRIVATE_KEY
    return _generate_private_key(key_spec)


_generate_private_key = moto_kms_models.generate_private_key
_SYMMETRIC_PRIVATE_KEY = _generate_private_key("SYMMETRIC_DEFAULT")
moto_kms_models.generate_private_key = _symmetric_key_without_rsa


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[local_aws.LocalStack]:
    """moto in-process with every resource of template.yaml created, and the functions' environment set."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", local_aws.REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    lambdas.fresh_clients()
    moto_dynamodb.apply()
    with mock_aws():
        stack = local_aws.provision(_ProvisioningSession(botocore_session=_BOTOCORE))
        for key, value in shared_environment(stack).items():
            monkeypatch.setenv(key, value)
        yield stack
    lambdas.fresh_clients()


@pytest.fixture
def functions(aws_env: local_aws.LocalStack) -> dict[str, lambdas.LocalFunction]:
    """Every function of the template, loaded from its CodeUri as the Lambda runtime would."""
    return load_functions(aws_env)


@pytest.fixture
def run_jobs(aws_env: local_aws.LocalStack, functions: dict[str, lambdas.LocalFunction]) -> Callable[[], int]:
    """Run the jobs queued so far through SyncWorkerFunction, as the queue's event source would, until none
    is left (delayed ones aside); how many it ran."""
    source = next(s for s in tpl.queue_sources(aws_env.template) if s.function == "SyncWorkerFunction")
    poller = QueuePoller(
        boto3.client("sqs"),
        source,
        aws_env.queue_url(source.queue_logical_id),
        str(aws_env.resolver.attributes[(source.queue_logical_id, "Arn")]),
        functions["SyncWorkerFunction"],
    )

    def run() -> int:
        ran = 0
        while handled := poller.poll_once():
            ran += handled
        return ran

    return run


@pytest.fixture
def http_gateway(
    functions: dict[str, lambdas.LocalFunction], aws_env: local_aws.LocalStack
) -> Iterator[tuple[str, str]]:
    """The local API Gateway over HTTP in front of every function: its URL and an API key."""
    server = serve("127.0.0.1", 0)
    _, authorizers = tpl.http_api_auth(aws_env.template)
    server.api = HttpApi(tpl.routes(aws_env.template), authorizers, functions)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.url, issue_local_api_key(None)
    server.shutdown()
    server.server_close()
