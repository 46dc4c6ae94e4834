"""Tenant-facing pages: plain HTML, no scripts, readable on any device."""

from __future__ import annotations

import html

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from qbsync.composition import container

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.4rem}}p{{line-height:1.5}}</style></head>
<body><main><h1>{title}</h1>{body}</main></body></html>"""


def page(status: int, title: str, body_html: str) -> Response[str]:
    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=_PAGE.format(title=html.escape(title), body=body_html),
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )


def build_pages() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver()

    @app.get("/connect/<token>")
    def connect(token: str) -> Response[str]:  # noqa: ARG001 - links are verified from issue 3 on
        # Connect links are signed and issued by the API; until one is issued, no token is valid.
        app_name = html.escape(container().settings.app_name)
        return page(
            404,
            "This connect link is not valid",
            f"<p>The link may have expired or been mistyped. Ask {app_name} for a new connect link.</p>",
        )

    @app.get("/qbo/callback")
    def callback() -> Response[str]:
        return page(
            400,
            "We could not finish connecting to QuickBooks",
            "<p>This page must be reached from a connect link. Open the connect link again to retry.</p>",
        )

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        return page(404, "Page not found", "<p>Check the address, or open your connect link again.</p>")

    return app
