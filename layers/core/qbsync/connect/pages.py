"""Tenant-facing pages: the connect page, the hand-off to Intuit, and the OAuth callback's answer; and the
tenant's dashboard (qbsync/pages/), served by the same function.

Plain HTML, no scripts; every page says what happened and what to do next.
"""

from __future__ import annotations

import html

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from qbsync.composition import Container, from_context
from qbsync.domain.connections import ConnectionStatus
from qbsync.domain.tenants import Edition, Tenant
from qbsync.pages.routes import add_dashboard
from qbsync.usecases.connect import CallbackResult

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.4rem}}p,li{{line-height:1.5}}.button{{display:inline-block;background:#2ca01c;color:#fff;
padding:.7rem 1.4rem;border:0;border-radius:4px;text-decoration:none;font-weight:600;font-size:1rem}}
</style></head>
<body><main><p class="app">{app}</p><h1>{title}</h1>{body}</main></body></html>"""
# The callback's page for each way it can fail: status, title, what happened (a retry link follows when the
# state was valid).
_CALLBACK_PAGES: dict[CallbackResult, tuple[int, str, str]] = {
    CallbackResult.DECLINED: (
        200,
        "QuickBooks was not connected",
        "The connection was not approved at Intuit. Nothing was changed.",
    ),
    CallbackResult.REALM_IN_USE: (
        409,
        "This QuickBooks company is already connected elsewhere",
        "Choose another company, or disconnect it from the other account first.",
    ),
    CallbackResult.FAILED: (
        502,
        "We could not finish connecting to QuickBooks",
        "Intuit did not accept the sign-in. Nothing was stored.",
    ),
    CallbackResult.WRONG_COMPANY: (
        403,
        "QuickBooks did not confirm this company",
        "The sign-in does not give access to the company it names. Nothing was stored.",
    ),
    CallbackResult.UNCONFIRMED: (
        502,
        "We could not finish connecting to QuickBooks",
        "QuickBooks could not be reached to confirm the company. Nothing was stored.",
    ),
    CallbackResult.BAD_STATE: (
        400,
        "This sign-in has expired or was already used",
        "Nothing was stored. Open your connect link again to start over.",
    ),
}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def _desktop_steps(token: str, *, issued: bool) -> str:
    """The Web Connector set-up, in the order the tenant does it (QBWC Programmer's Guide ch. 3)."""
    action = html.escape(f"/connect/{token}")
    button = "Get a new password" if issued else "Get a password"
    note = (
        "<p>A password was issued before. Getting a new one retires it: the Web Connector will need the "
        "new password.</p>"
        if issued
        else ""
    )
    return (
        "<p>QuickBooks Desktop connects through the QuickBooks Web Connector, a free program from Intuit "
        "that runs on the computer where QuickBooks is.</p><ol>"
        "<li>Install the QuickBooks Web Connector on that computer, if it is not there yet.</li>"
        "<li>Open your company file in QuickBooks, signed in as the Admin user.</li>"
        "<li>Get a password and the .qwc file below.</li>"
        "<li>Open the .qwc file (or, in the Web Connector, <em>Add an application</em> and choose it); "
        "QuickBooks asks to allow it: allow it, also when QuickBooks is not running.</li>"
        "<li>Type the password into the Password box of the new line in the Web Connector and save it.</li>"
        "<li>Check the box in front of the line and press <em>Update Selected</em>.</li></ol>"
        f"{note}"
        f'<form method="post" action="{action}"><button class="button" id="issue" type="submit">'
        f"{button}</button></form>"
    )


def page(status: int, title: str, body_html: str, *, app_name: str) -> Response[str]:
    """An HTML page: `title` and `app_name` are plain text (escaped here), `body_html` is markup whose values
    are escaped."""
    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=_PAGE.format(title=html.escape(title), body=body_html, app=html.escape(app_name)),
        headers=SECURITY_HEADERS,
    )


def build_pages() -> APIGatewayHttpResolver:
    """The pages' resolver; its handler appends the container to the context before each event."""
    app = APIGatewayHttpResolver()

    def c() -> Container:
        return from_context(app.context)

    def show(status: int, title: str, body_html: str) -> Response[str]:
        return page(status, title, body_html, app_name=c().settings.app_name)

    def invalid_link() -> Response[str]:
        app_name = html.escape(c().settings.app_name)
        return show(
            404,
            "This connect link is not valid",
            f"<p>The link may have expired or been mistyped. Ask {app_name} for a new connect link.</p>",
        )

    def base_url() -> str:
        event = app.current_event
        return f"{event.headers.get('x-forwarded-proto', 'https')}://{event.request_context.domain_name}"

    def redirect_uri() -> str:
        return f"{base_url()}/qbo/callback"

    def desktop_tenant(token: str) -> Tenant | None:
        tenant = c().onboarding.tenant_of_link(token)
        return tenant if tenant is not None and tenant.edition is Edition.QBD else None

    @app.get("/connect/<token>")
    def connect(token: str) -> Response[str]:
        onboarding = c().onboarding
        tenant = onboarding.tenant_of_link(token)
        if tenant is None:
            return invalid_link()
        name = tenant.name  # plain text: page() escapes the title
        if tenant.edition is Edition.QBD:
            issued = c().web_connector_logins.is_issued(tenant.id)
            return show(
                200,
                f"Connect {name} to QuickBooks Desktop",
                _desktop_steps(token, issued=issued),
            )
        connection = onboarding.connection(tenant.id)
        note = ""
        if connection.status is ConnectionStatus.CONNECTED:
            note = (
                f"<p>Connected to <strong>{html.escape(connection.company_name or 'QuickBooks')}"
                "</strong>. Connect again to switch companies or renew access.</p>"
            )
        elif connection.last_error is not None:
            note = f"<p>Last attempt: {html.escape(connection.last_error.message)}</p>"
        return show(
            200,
            f"Connect {name} to QuickBooks Online",
            f"{note}<p>You will sign in at Intuit and choose the company to connect.</p>"
            f'<p><a class="button" id="connect" href="/connect/{html.escape(token)}/start">'
            "Connect to QuickBooks</a></p>",
        )

    @app.post("/connect/<token>")
    def issue_web_connector_login(token: str) -> Response[str]:
        tenant = desktop_tenant(token)
        if tenant is None:
            return invalid_link()
        issued = c().web_connector_logins.issue(tenant.id, base_url())
        link = html.escape(f"/connect/{token}/qwc")
        return show(
            200,
            f"Your Web Connector password for {tenant.name}",
            f'<p>Password: <code id="password">{html.escape(issued.password)}</code></p>'
            "<p><strong>Copy it now: it is shown only this once.</strong> Type it into the Web Connector "
            "when it asks, after adding the file below. Any password issued before no longer works.</p>"
            f'<p><a class="button" id="qwc" href="{link}" download>Download the .qwc file</a></p>'
            f"<p>User name: <code>{html.escape(issued.user_name)}</code>; the Web Connector will run every "
            f"{issued.run_every_minutes} minutes.</p>",
        )

    @app.get("/connect/<token>/qwc")
    def download_qwc(token: str) -> Response[str]:
        tenant = desktop_tenant(token)
        if tenant is None:
            return invalid_link()
        logins = c().web_connector_logins
        if not logins.is_issued(tenant.id):
            return show(
                404,
                "No Web Connector password yet",
                f'<p><a href="/connect/{html.escape(token)}">Open your connect link</a> and choose '
                "<em>Get a password</em> first.</p>",
            )
        return Response(
            status_code=200,
            content_type="application/xml",
            body=logins.qwc(tenant.id, base_url()),
            headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{tenant.id}.qwc"'},
        )

    @app.get("/connect/<token>/start")
    def start(token: str) -> Response[str]:
        url = c().onboarding.start(token, redirect_uri())
        if url is None:
            return invalid_link()
        return Response(status_code=302, headers={**SECURITY_HEADERS, "Location": url}, body="")

    @app.get("/qbo/callback")
    def callback() -> Response[str]:
        q = app.current_event.query_string_parameters or {}
        outcome = c().onboarding.complete(
            state=q.get("state", ""),
            code=q.get("code", ""),
            realm_id=q.get("realmId", ""),
            error=q.get("error", ""),
            redirect_uri=redirect_uri(),
        )
        retry = (
            f'<p><a class="button" id="retry" href="{html.escape(outcome.retry_path)}">Try again</a></p>'
            if outcome.retry_path
            else ""
        )
        if outcome.result is CallbackResult.CONNECTED:
            company = html.escape(outcome.company_name or "your QuickBooks company")
            return show(
                200,
                "Connected to QuickBooks",
                f"<p><strong>{company}</strong> is connected. You can close this window.</p>",
            )
        status, title, text = _CALLBACK_PAGES[outcome.result]
        return show(status, title, f"<p>{text}</p>{retry}")

    dashboard_not_found = add_dashboard(app, c, base_url)

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        path = app.current_event.path
        if path == "/dashboard" or path.startswith("/dashboard/"):
            return dashboard_not_found()
        return show(404, "Page not found", "<p>Check the address, or open your connect link again.</p>")

    return app
