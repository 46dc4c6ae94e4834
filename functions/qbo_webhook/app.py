"""QboWebhookFunction: verifies Intuit's signature, enqueues one job per changed entity, answers 200 fast."""

import base64
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from qbsync.composition import container
from qbsync.domain.webhooks import WebhookPayloadError, WebhookSignatureError
from qbsync.observability import function_logger
from qbsync.problems import problem_response
from qbsync.usecases.webhooks import SIGNATURE_HEADER

logger = function_logger()
tracer = Tracer()
OK = {"statusCode": 200, "body": ""}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@event_source(data_class=APIGatewayProxyEventV2)
def lambda_handler(event: APIGatewayProxyEventV2, context: LambdaContext) -> dict[str, Any]:
    # The signature covers the bytes Intuit sent: never re-serialise, only undo API Gateway's base64.
    body = base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode()
    try:
        receipt = container().webhook_receiver.receive(body, event.headers.get(SIGNATURE_HEADER))
    except WebhookSignatureError as exc:
        logger.warning("webhook refused", extra={"reason": exc.detail, "body_bytes": len(body)})
        return problem_response(HTTPStatus.FORBIDDEN, exc.detail)
    except WebhookPayloadError as exc:  # Intuit's own bytes: no retry can fix them, and a 4xx stalls the feed
        logger.error("signed webhook unreadable; acknowledged", extra={"reason": exc.detail})  # noqa: TRY400
        return OK
    logger.info("webhook accepted", extra=receipt.summary())
    return OK
