"""AuthorizerFunction: API Gateway's Lambda authorizer for /v1 routes (payload 2.0, simple responses).

It answers only yes or no; API Gateway turns a no into 403 and a missing header into 401 itself. Its import
loads the logger only (`make bench`: ≤ 300 ms); the key store (composition root, boto3) loads at the first
call, or before the snapshot with SnapStart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from qbsync import snapstart
from qbsync.metrics import metered
from qbsync.observability import function_logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = function_logger()


snapstart.prepare(modules=("qbsync.composition", "qbsync.usecases.apikeys"))


def answer(authorized: bool, context: dict[str, str] | None = None) -> dict[str, Any]:
    """A simple response, payload format 2.0 ("Working with AWS Lambda authorizers for HTTP APIs")."""
    return {"isAuthorized": authorized, **({"context": context} if context else {})}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metered
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from qbsync.composition import container
    from qbsync.usecases.apikeys import authenticate

    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    key = authenticate(container().api_keys, headers.get("authorization"))
    if key is None:
        logger.info("API key refused", extra={"route": event.get("routeKey")})
        return answer(False)
    logger.info("API key accepted", extra={"key_id": key.key_id})
    return answer(True, {"key_id": key.key_id, "key_label": key.label})
