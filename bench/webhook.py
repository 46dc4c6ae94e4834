"""`make bench`: the webhook's acknowledgement, warm. 1,000 signed deliveries of one change each go through
QboWebhookFunction's handler, loaded as Lambda loads it, in this process, against the template's resources
in moto (in-process, as the tests use it). Each call is timed around the handler alone: verify the
signature, store the event's dedupe key, enqueue the job. The first delivery (the cold one, which loads the
receiver) is left out.

moto answers DynamoDB and SQS in this process, and its work on a request (some milliseconds, on this
machine's Python) is not what AWS's answer costs: the time spent in moto is taken out of each delivery's
figure, which keeps the handler's own work and botocore's (signing, serialising, parsing). The AWS requests
a delivery makes are counted beside it; each costs a round trip in AWS. Target: the handler's own p99
≤ 30 ms, with two requests a delivery (the dedupe key, the job) once its company is known.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import io
import json
import os
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

TARGET_P99_MS = 30.0
TENANT, REALM = "bench-webhooks", "4620816365000000001"


REQUESTS_TARGET = 2.0


@dataclass(frozen=True)
class WebhookFigures:
    deliveries: int
    accepted: int
    jobs: int
    p50_ms: float  # the handler's own time: moto's taken out
    p99_ms: float
    max_ms: float
    with_moto_p99_ms: float  # the whole call, moto's work included
    requests_per_delivery: float

    @property
    def ok(self) -> bool:
        return (
            self.accepted == self.deliveries
            and self.jobs == self.deliveries
            and self.p99_ms <= TARGET_P99_MS
            and self.requests_per_delivery <= REQUESTS_TARGET
        )


class _MotoTime:
    """Time spent inside moto's answer to each request, and how many requests it answered."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.requests = 0

    def install(self) -> None:
        from moto.core.botocore_stubber import BotocoreStubber

        answer = BotocoreStubber.__call__
        meter = self

        def timed(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return answer(stubber, event_name, request, **kwargs)
            finally:
                meter.seconds += time.perf_counter() - started
                meter.requests += 1

        BotocoreStubber.__call__ = timed  # type: ignore[method-assign]


def _delivery(token: str, n: int) -> dict[str, Any]:
    """A CloudEvents delivery of one change, signed as Intuit signs it (HMAC-SHA256 of the body)."""
    body = json.dumps(
        [
            {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58DeeG9xFJ7K",
                "type": "qbo.customer.updated.v1",
                "datacontenttype": "application/json",
                "time": "2026-12-01T02:00:00Z",
                "intuitentityid": str(1000 + n),
                "intuitaccountid": REALM,
                "data": {},
            }
        ]
    ).encode()
    signature = base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()
    return {
        "version": "2.0",
        "routeKey": "POST /qbo/webhooks",
        "rawPath": "/qbo/webhooks",
        "headers": {"content-type": "application/json", "intuit-signature": signature},
        "requestContext": {"http": {"method": "POST", "path": "/qbo/webhooks"}, "requestId": str(n)},
        "body": body.decode(),
        "isBase64Encoded": False,
    }


def run(deliveries: int = 1000) -> WebhookFigures:
    import boto3
    from moto import mock_aws

    from local import aws as local_aws
    from local import lambdas, moto_dynamodb
    from local import template as tpl
    from local.stack import shared_environment

    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("AWS_")]:  # a stack started earlier in this process
        del os.environ[name]
    lambdas.fresh_clients()
    credentials = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}  # moto's, not AWS's
    os.environ.update({"AWS_DEFAULT_REGION": local_aws.REGION, **credentials})
    os.environ["POWERTOOLS_TRACE_DISABLED"] = "true"
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # a log line per delivery is not what is measured
    moto_dynamodb.apply()
    try:
        # The handler's metrics (EMF) print to stdout, as in Lambda; `--json` prints there too.
        with mock_aws(), contextlib.redirect_stdout(io.StringIO()):
            stack = local_aws.provision(boto3.Session())
            os.environ.update(shared_environment(stack))
            spec = tpl.functions(stack.template)["QboWebhookFunction"]
            quiet = {**stack.function_environment(spec), "POWERTOOLS_LOG_LEVEL": "WARNING"}  # no line a call
            handler = lambdas.load_instance(spec, quiet)
            boto3.client("dynamodb").put_item(  # a connected company, as connecting leaves it
                TableName=os.environ["TABLE_NAME"],
                Item={"pk": {"S": f"REALM#{REALM}"}, "sk": {"S": "REALM"}, "tenant_id": {"S": TENANT}},
            )
            token = local_aws.LOCAL_SECRETS["WebhookVerifierSecret"]["verifier_token"]
            context = lambdas.LambdaContext("webhook", spec.memory, spec.timeout)
            handler(_delivery(token, -1), context)  # the cold one: loads the receiver
            moto = _MotoTime()
            moto.install()
            own, whole, accepted = [], [], 0
            for n in range(deliveries):
                event = _delivery(token, n)
                in_moto, started = moto.seconds, time.perf_counter()
                answer = handler(event, context)
                elapsed = time.perf_counter() - started
                whole.append(elapsed * 1000.0)
                own.append((elapsed - (moto.seconds - in_moto)) * 1000.0)
                accepted += answer["statusCode"] == 200
            requests = moto.requests
            attributes = boto3.client("sqs").get_queue_attributes(
                QueueUrl=os.environ["JOBS_QUEUE_URL"], AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
    finally:
        os.environ.clear()
        os.environ.update(saved)
        lambdas.fresh_clients()
    own.sort()
    whole.sort()
    return WebhookFigures(
        deliveries=deliveries,
        accepted=accepted,
        jobs=int(attributes["ApproximateNumberOfMessages"]) - 1,  # the cold delivery's job aside
        p50_ms=statistics.median(own),
        p99_ms=_p99(own),
        max_ms=own[-1],
        with_moto_p99_ms=_p99(whole),
        requests_per_delivery=requests / deliveries,
    )


def _p99(ordered: list[float]) -> float:
    return ordered[min(len(ordered) - 1, round(0.99 * len(ordered)) - 1)]


def format_figures(figures: WebhookFigures) -> str:
    return "\n".join(
        [
            f"webhook acknowledgement, warm, {figures.deliveries} signed deliveries, in the handler",
            f"  accepted            {figures.accepted}/{figures.deliveries}",
            f"  jobs queued         {figures.jobs}",
            f"  AWS requests each   {figures.requests_per_delivery:.2f}      target ≤ {REQUESTS_TARGET:.0f}",
            f"  own p50             {figures.p50_ms:.1f} ms",
            f"  own p99             {figures.p99_ms:.1f} ms   target ≤ {TARGET_P99_MS:.0f} ms",
            f"  own max             {figures.max_ms:.1f} ms",
            f"  p99 with moto       {figures.with_moto_p99_ms:.1f} ms   (moto's own work included)",
            f"  result              {'ok' if figures.ok else 'MISSED'}",
        ]
    )


if __name__ == "__main__":
    print(format_figures(run()))
