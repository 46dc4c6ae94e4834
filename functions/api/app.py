"""ApiFunction: the host-app HTTP API (tenants, settings, records, sync, events) plus /health and docs.

Its import loads its decorators only (`make bench`: ≤ 300 ms); the API (resolver, models, composition root,
boto3) is built at the first call or before SnapStart's snapshot, the X-Ray SDK with the tracer at the first.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from qbsync import snapstart
from qbsync.metrics import metered
from qbsync.observability import function_logger, traced

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = function_logger()


@functools.cache
def api() -> APIGatewayHttpResolver:
    from qbsync.api.app import build_api

    return build_api()


snapstart.prepare(api, modules=("qbsync.composition",))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metered
@traced()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from qbsync.api.idempotency import register_lambda_context
    from qbsync.composition import container

    register_lambda_context(context)  # Idempotency-Key: in-progress records expire with this invocation
    app = api()
    app.append_context(container=container())  # the routes' use cases; Powertools clears it after each event
    return app.resolve(event, context)
