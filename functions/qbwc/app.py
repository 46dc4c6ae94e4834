"""QbwcFunction: the Web Connector SOAP endpoint."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from qbsync.observability import function_logger

logger = function_logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return {"statusCode": 503, "body": ""}
