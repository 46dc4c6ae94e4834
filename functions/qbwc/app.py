"""QbwcFunction: the QuickBooks Web Connector endpoint, SOAP on POST /qbwc and its support page on GET /qbwc.

Requests carry the tenant's Web Connector password and responses carry session tickets: the event and the
response are never logged or traced.
"""

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from qbsync.composition import container
from qbsync.observability import function_logger
from qbsync.qbwc.endpoint import build_endpoint

logger = function_logger()
tracer = Tracer()
app = build_endpoint()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    app.append_context(container=container())
    return app.resolve(event, context)
