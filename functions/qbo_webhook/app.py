"""QboWebhookFunction: verifies Intuit's signature, enqueues a job per entity type a delivery names, answers
200 fast. Its import loads its decorators only (`make bench`: ≤ 150 ms); the receiver (composition root,
boto3) loads at the first call or before SnapStart's snapshot, the X-Ray SDK with the tracer at the first."""

from __future__ import annotations

import base64
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from qbsync import snapstart
from qbsync.metrics import metered
from qbsync.observability import function_logger, traced

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = function_logger()
OK = {"statusCode": 200, "body": ""}
snapstart.prepare(modules=("qbsync.composition", "qbsync.problems", "qbsync.usecases.webhooks"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metered
@traced()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from qbsync.composition import container
    from qbsync.domain.webhooks import WebhookPayloadError, WebhookSignatureError
    from qbsync.problems import problem_response
    from qbsync.usecases.webhooks import signature_of

    raw = event.get("body") or ""  # the signature covers Intuit's bytes: only undo API Gateway's base64
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    try:
        receipt = container().webhook_receiver.receive(body, signature_of(event.get("headers") or {}))
    except WebhookSignatureError as exc:
        logger.warning("webhook refused", extra={"reason": exc.detail, "body_bytes": len(body)})
        return problem_response(HTTPStatus.FORBIDDEN, exc.detail)
    except WebhookPayloadError as exc:  # Intuit's own bytes: no retry can fix them, and a 4xx stalls the feed
        logger.error("signed webhook unreadable; acknowledged", extra={"reason": exc.detail})  # noqa: TRY400
        return OK
    logger.info("webhook accepted", extra=receipt.summary())
    return OK
