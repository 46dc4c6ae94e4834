"""QbwcFunction: the QuickBooks Web Connector endpoint, SOAP on POST /qbwc and its support page on GET /qbwc.

Requests carry the tenant's Web Connector password and responses carry session tickets: the event and the
response are never logged or traced. Its import loads its decorators only (`make bench`: ≤ 150 ms); the
endpoint (lxml, resolver, composition root, boto3) loads at the first call or before SnapStart's snapshot.
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
def endpoint() -> APIGatewayHttpResolver:
    from qbsync.qbwc.endpoint import build_endpoint

    return build_endpoint()


snapstart.prepare(endpoint, modules=("qbsync.composition",))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@metered
@traced(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from qbsync.composition import container

    app = endpoint()
    app.append_context(container=container())
    return app.resolve(event, context)
