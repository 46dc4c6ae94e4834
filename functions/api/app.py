"""ApiFunction: the host-app HTTP API (tenants, settings, records, sync, events) plus /health and docs."""

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from qbsync.api.app import build_api
from qbsync.api.idempotency import register_lambda_context
from qbsync.composition import container
from qbsync.observability import function_logger

logger = function_logger()
tracer = Tracer()
app = build_api()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    register_lambda_context(context)  # Idempotency-Key: in-progress records expire with this invocation
    app.append_context(container=container())  # the routes' use cases; Powertools clears it after each event
    return app.resolve(event, context)
