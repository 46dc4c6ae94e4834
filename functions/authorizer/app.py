"""AuthorizerFunction: API Gateway's Lambda authorizer for /v1 routes (payload 2.0, simple responses).

It answers only yes or no; API Gateway turns a no into 403 and a missing header into 401 itself.
"""

from typing import Any

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerEventV2,
    APIGatewayAuthorizerResponseV2,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from qbsync.composition import container
from qbsync.observability import function_logger
from qbsync.usecases.apikeys import authenticate

logger = function_logger()


@logger.inject_lambda_context
@event_source(data_class=APIGatewayAuthorizerEventV2)
def lambda_handler(event: APIGatewayAuthorizerEventV2, context: LambdaContext) -> dict[str, Any]:
    key = authenticate(container().api_keys, event.headers.get("authorization"))
    if key is None:
        logger.info("API key refused", extra={"route": event.route_key})
        return APIGatewayAuthorizerResponseV2(authorize=False).asdict()
    logger.info("API key accepted", extra={"key_id": key.key_id})
    return APIGatewayAuthorizerResponseV2(
        authorize=True, context={"key_id": key.key_id, "key_label": key.label}
    ).asdict()
