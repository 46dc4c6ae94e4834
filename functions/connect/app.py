"""ConnectFunction: hosted connect pages and the QuickBooks Online OAuth callback."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from qbsync.composition import container
from qbsync.connect.pages import build_pages
from qbsync.observability import function_logger

logger = function_logger()
app = build_pages()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    app.append_context(container=container())
    return app.resolve(event, context)
