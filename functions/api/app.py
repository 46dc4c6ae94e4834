"""ApiFunction: the host-app HTTP API (tenants, and later records, settings, events) plus /health and docs."""

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from qbsync.api.app import build_api
from qbsync.observability import function_logger

logger = function_logger()
tracer = Tracer()
app = build_api()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
