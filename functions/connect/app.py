"""ConnectFunction: the pages tenants open in a browser (the connect pages, the QuickBooks Online OAuth
callback, the dashboard).

Its import loads its decorators only (`make bench`: ≤ 300 ms); the pages (resolver, Jinja2, composition root,
boto3) load at the first call, or before the snapshot with SnapStart (templates compiled then).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from qbsync import snapstart
from qbsync.metrics import metered
from qbsync.observability import function_logger
from qbsync.pages.render import compile_templates

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = function_logger()


@functools.cache
def pages() -> APIGatewayHttpResolver:
    from qbsync.connect.pages import build_pages

    return build_pages()


snapstart.prepare(pages, compile_templates, modules=("qbsync.composition",))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metered
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from qbsync.composition import container

    app = pages()
    app.append_context(container=container())
    return app.resolve(event, context)
