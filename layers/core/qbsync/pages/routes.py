"""The dashboard's routes, added to the connect pages' resolver (ConnectFunction).

- `GET /dashboard/<token>`: a dashboard link. A valid one starts a session and answers 303 to `/dashboard`
  with the session cookie; any other is a page saying the link is not valid.
- Every other page reads the session from its cookie (401 page without one) and shows the session's tenant
  only: the tenant id comes from the session, never from the address or a form.
- Every form carries the session's CSRF token; a POST without it, with another, or in a read-only session is
  answered 403 and changes nothing.

The Overview is `/dashboard`, not `/dashboard/`: API Gateway's greedy `/dashboard/{proxy+}` needs at least one
character after the slash, so the template routes `/dashboard` itself to the function.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from qbsync.composition import Container
from qbsync.domain.dashboard import DashboardSession
from qbsync.domain.errors import DomainError
from qbsync.domain.records import RECORD_TYPES
from qbsync.domain.sync import SyncRecord
from qbsync.domain.tenants import Edition, Tenant
from qbsync.pages.catalogue import has, t
from qbsync.pages.initial_sync import add_initial_sync_page
from qbsync.pages.match_tabs import add_match_tabs
from qbsync.pages.record_actions import add_record_actions, show_record
from qbsync.pages.render import LiveBar, live_bar, render, static_file
from qbsync.pages.review import add_review_page
from qbsync.pages.settings import add_settings_page
from qbsync.usecases.dashboard import COLUMNS, OpenedSession, csrf_token, csrf_valid, records_overview

HOME = "/dashboard"
SESSION_COOKIE = "qbsync_session"
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 8 * 1024
# Fields a form may post: the settings' checkboxes of payment methods (SyncSettings allows 50) and a page of
# the review queue's checkboxes, with the rest of their forms.
MAX_FORM_FIELDS = 120
ASSETS = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
}
# The Overview's counts read every record of the tenant (Statuses.count_states): its script asks every 5 s
# for up to 1,000 records, and 5 s more per 1,000 more, up to a minute, so an open page reads some 200 records
# a second however large the tenant.
LIVE_EVERY, LIVE_RECORDS, LIVE_EVERY_MAX = 5000, 1000, 60_000
RECORD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # domain/records.py RecordId


@dataclass(frozen=True)
class NavItem:
    label: str  # a catalogue id
    href: str
    current: bool = False


# The dashboard's pages, in the order the navigation shows them; later pages add theirs here.
PAGES = (
    ("nav.overview", HOME),
    ("nav.matches", "/dashboard/matches/customer"),
    ("nav.settings", "/dashboard/settings"),
    ("nav.initial_sync", "/dashboard/initial-sync"),
    ("nav.review", "/dashboard/review"),
)


def navigation(current: str) -> list[NavItem]:
    return [NavItem(label, href, href == current) for label, href in PAGES]


def security_headers(frame_ancestors: str) -> dict[str, str]:
    """Every dashboard answer's headers: scripts, styles and everything else from this origin only (no
    inline script or style), framed only by `frame_ancestors` (the stack's DashboardFrameAncestors), never
    cached, never telling another site the address (it may hold a link token)."""
    headers = {
        "Content-Security-Policy": f"default-src 'self'; frame-ancestors {frame_ancestors}; "
        "form-action 'self'; base-uri 'none'; object-src 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    if frame_ancestors.strip() == "'none'":
        headers["X-Frame-Options"] = "DENY"  # for browsers older than CSP frame-ancestors
    return headers


def session_cookie(opened: OpenedSession, *, embeddable: bool, max_age: int) -> Cookie:
    """The session cookie: HttpOnly and Secure always, for the dashboard's paths only.

    Embedded (DashboardFrameAncestors names a host app's origin), the dashboard is a cross-site iframe, and
    browsers send a cookie in a cross-site frame only when it is `SameSite=None` (RFC 6265bis §8.8); it is
    also `Partitioned` (CHIPS), so that browsers that block third-party cookies keep it, in a jar of the host
    app's site alone. Not embedded, `SameSite=Lax` keeps it out of every cross-site request but a top-level
    navigation.
    """
    return Cookie(
        SESSION_COOKIE,
        opened.session_id,
        path=HOME,
        secure=True,
        http_only=True,
        max_age=max_age,
        same_site=SameSite.NONE_MODE if embeddable else SameSite.LAX_MODE,
        custom_attributes=["Partitioned"] if embeddable else None,
    )


def counts_every(records: int) -> int:
    """How long the Overview's script waits between two asks for the counts of `records` records, in ms."""
    return min(LIVE_EVERY_MAX, LIVE_EVERY * max(1, math.ceil(records / LIVE_RECORDS)))


def record_label(record: SyncRecord) -> str:
    """How the tenant knows a record: its name, its number, else its id."""
    data = record.data
    person = " ".join(str(data[k]) for k in ("given_name", "family_name") if data.get(k))
    for value in (data.get("display_name"), data.get("name"), person, data.get("doc_number")):
        if value:
            return str(value)
    return record.record_id


def actions_of(record: SyncRecord, app_name: str) -> list[str]:
    """What fixes the record's failure, in the catalogue's words."""
    if record.failure is None:
        return []
    return [
        t(f"action.{a}", app=app_name) if has(f"action.{a}") else t("action.other")
        for a in dict.fromkeys(record.failure.actions)
    ]


def add_dashboard(
    app: APIGatewayHttpResolver, container_of: Callable[[], Container], base_url: Callable[[], str]
) -> Callable[[], Response[str]]:
    """Add the dashboard's routes to `app`; the answer for an unknown dashboard address. Static routes are
    matched before `/dashboard/<token>` (Powertools tries them first)."""
    pages = DashboardPages(app, container_of, base_url)
    app.get("/dashboard/assets/dashboard.css")(pages.stylesheet)
    app.get("/dashboard/assets/dashboard.js")(pages.script)
    app.get(HOME)(pages.overview)
    app.get("/dashboard/progress.json")(pages.progress)
    app.get("/dashboard/web-connector.qwc")(pages.web_connector_file)
    app.get("/dashboard/records/<record_type>/<record_id>")(pages.record_page)
    app.post("/dashboard/records/<record_type>/<record_id>/send")(pages.send_again)
    app.post("/dashboard/reconnect")(pages.reconnect)
    add_match_tabs(app, pages)
    add_record_actions(app, pages)
    add_settings_page(app, pages)
    add_initial_sync_page(app, pages)
    add_review_page(app, pages)
    app.get("/dashboard/<token>")(pages.open_link)
    return pages.not_found


@dataclass
class DashboardPages:
    """The dashboard's handlers, over the resolver handling the event and the container it was handed."""

    app: APIGatewayHttpResolver
    container_of: Callable[[], Container]
    base_url: Callable[[], str]

    # ------------------------------------------------------------------ answers

    def c(self) -> Container:
        return self.container_of()

    def headers(self) -> dict[str, str]:
        return security_headers(self.c().settings.dashboard_frame_ancestors)

    def page(self, status: int, template: str, title: str, **context: Any) -> Response[str]:
        body = render(template, title=title, app_name=self.c().settings.app_name, **context)
        return Response(
            status_code=status, content_type="text/html; charset=utf-8", body=body, headers=self.headers()
        )

    def message(self, status: int, key: str, *, back: bool = False) -> Response[str]:
        app_name = self.c().settings.app_name
        return self.page(
            status,
            "message.html",
            t(f"{key}.title"),
            text=t(f"{key}.text", app=app_name),
            back=back,
            nav=[],
            read_only=False,
        )

    def not_found(self) -> Response[str]:
        return self.message(404, "not_found", back=True)

    def see_other(self, location: str, cookies: list[Cookie] | None = None) -> Response[str]:
        return Response(
            status_code=303, headers={**self.headers(), "Location": location}, body="", cookies=cookies or []
        )

    def asset(self, name: str) -> Response[str]:
        return Response(
            status_code=200,
            content_type=ASSETS[name],
            body=static_file(name),
            headers={**self.headers(), "Cache-Control": "public, max-age=3600"},
        )

    # ------------------------------------------------------------------ sessions

    def current_session(self) -> DashboardSession | None:
        sessions = self.c().dashboard
        for raw in (self.app.current_event.cookies or [])[:20]:
            name, _, value = raw.partition("=")
            if name.strip() == SESSION_COOKIE:
                session = sessions.session(value.strip())
                if session is not None:
                    return session
        return None

    def posted_form(self) -> dict[str, str]:
        """The posted form, each field's first value."""
        return {k: v[0] for k, v in self.posted_fields().items()}

    def posted_fields(self) -> dict[str, list[str]]:
        """The posted form, each field with all its values (checkboxes of one name); empty when it is
        larger than MAX_FORM_BYTES or MAX_FORM_FIELDS (its CSRF token is then missing: 403)."""
        body = self.app.current_event.decoded_body or ""
        if len(body) > MAX_FORM_BYTES:
            return {}
        try:
            return parse_qs(body, max_num_fields=MAX_FORM_FIELDS)
        except ValueError:  # more fields than allowed
            return {}

    def with_session(
        self, handler: Callable[[DashboardSession, Tenant], Response[str]], *, change: bool = False
    ) -> Response[str]:
        """Run `handler` for the request's live session and its tenant; a change only with the session's
        CSRF token and not in a read-only session."""
        session = self.current_session()
        tenant = self.c().tenants.get(session.tenant_id) if session else None
        if session is None or tenant is None:
            return self.message(401, "session_missing")
        if change:
            if not csrf_valid(session, self.posted_form().get(CSRF_FIELD)):
                return self.message(403, "csrf")
            if session.read_only:
                return self.message(403, "read_only")
        return handler(session, tenant)

    def shown(self, session: DashboardSession, path: str) -> dict[str, Any]:
        """What every page of a session shows besides its own content."""
        app_name = self.c().settings.app_name
        return {
            "nav": navigation(path),
            "read_only": session.read_only,
            "csrf": csrf_token(session),
            "record_label": record_label,
            "actions_of": lambda record: actions_of(record, app_name),
        }

    def find_record(self, tenant: Tenant, record_type: str, record_id: str) -> SyncRecord | None:
        if record_type not in RECORD_TYPES or not RECORD_ID.match(record_id):
            return None
        try:
            return self.c().records.get(tenant.id, record_type, record_id)
        except DomainError:
            return None

    # ------------------------------------------------------------------ routes

    def stylesheet(self) -> Response[str]:
        return self.asset("dashboard.css")

    def script(self) -> Response[str]:
        return self.asset("dashboard.js")

    def open_link(self, token: str) -> Response[str]:
        c = self.c()
        opened = c.dashboard.open(token)
        if opened is None:
            return self.message(404, "link_invalid")
        max_age = max(1, int((opened.session.expires_at - c.clock.now()).total_seconds()))
        embeddable = c.settings.dashboard_frame_ancestors.strip() != "'none'"
        return self.see_other(HOME, [session_cookie(opened, embeddable=embeddable, max_age=max_age)])

    def overview(self) -> Response[str]:
        return self.with_session(self._overview)

    def _overview(self, session: DashboardSession, tenant: Tenant) -> Response[str]:
        c = self.c()
        records = records_overview(c.statuses, tenant.id)
        desktop = None
        stale_since = None
        if tenant.edition is Edition.QBD:
            found = c.desktop_connections.connection(tenant.id)
            assert found is not None  # a Desktop tenant's connection
            connection, stale_since = found.connection, found.stale_since
            desktop = c.web_connector_logins.setup(tenant.id)
        else:
            connection = c.onboarding.connection(tenant.id)
        return self.page(
            200,
            "overview.html",
            t("overview.title", tenant=tenant.name),
            connection=connection,
            desktop=desktop,
            stale_since=stale_since,
            counts=records.by_type,
            columns=COLUMNS,
            failed=records.failed,
            failed_total=sum(row.counts["failed"] for row in records.by_type),
            as_of=c.clock.now(),
            notice=self._notice(tenant),
            **self.shown(session, HOME),
        )

    def _notice(self, tenant: Tenant) -> str | None:
        """What the last form did, from the address it redirected to (`?sent=type/id`)."""
        sent = (self.app.current_event.query_string_parameters or {}).get("sent", "")
        record_type, _, record_id = sent.partition("/")
        record = self.find_record(tenant, record_type, record_id)
        if record is None:
            return None
        return t("overview.sent", type=t(f"type.{record_type}"), label=record_label(record))

    def progress(self) -> Response[str]:
        """The Overview's counts, for the dashboard's script; it asks again while records are pending."""
        c = self.c()
        session = self.current_session()
        if session is None:
            return self.live_refused()
        records = records_overview(c.statuses, session.tenant_id, failed_limit=0)
        text = {"as-of": t("counts.as_of", at=t("format.datetime", at=c.clock.now()))}
        bars = {}
        for row in records.by_type:
            for column in COLUMNS:
                text[f"count-{row.record_type}-{column}"] = str(row.counts[column])
            percent = t("counts.percent", percent=row.percent_synced)
            text[f"percent-{row.record_type}"] = percent
            bars[f"bar-{row.record_type}"] = live_bar(row.percent_synced, percent)
        total = sum(sum(row.counts.values()) for row in records.by_type)
        return self.live(
            any(row.counts["pending"] for row in records.by_type), text, bars, counts_every(total)
        )

    def live(
        self,
        running: bool,
        text: dict[str, str],
        bars: dict[str, LiveBar] | None = None,
        every: int | None = None,
    ) -> Response[str]:
        """An answer for the dashboard's script (static/dashboard.js): the texts and progress bars to change,
        by element id, whether to ask again, and after how long (milliseconds; else the page's own)."""
        doc: dict[str, Any] = {"running": running, "text": text, "bars": bars or {}}
        if every is not None:
            doc["every"] = every
        return self.json(200, doc)

    def live_refused(self) -> Response[str]:
        """The script's answer without a session: it stops, and the page's Refresh link shows the 401 page."""
        return self.json(401, {"detail": t("session_missing.text", app=self.c().settings.app_name)})

    def json(self, status: int, doc: dict[str, Any]) -> Response[str]:
        return Response(
            status_code=status, content_type="application/json", body=json.dumps(doc), headers=self.headers()
        )

    def record_page(self, record_type: str, record_id: str) -> Response[str]:
        def shown_record(session: DashboardSession, tenant: Tenant) -> Response[str]:
            record = self.find_record(tenant, record_type, record_id)
            if record is None:
                return self.not_found()
            return show_record(self, session, tenant, record)

        return self.with_session(shown_record)

    def send_again(self, record_type: str, record_id: str) -> Response[str]:
        def send(_: DashboardSession, tenant: Tenant) -> Response[str]:
            if self.find_record(tenant, record_type, record_id) is None:
                return self.not_found()
            self.c().records.send(tenant.id, [(record_type, record_id)])  # as POST /v1/tenants/{id}/sync
            return self.see_other(f"{HOME}?sent={record_type}/{record_id}")

        return self.with_session(send, change=True)

    def reconnect(self) -> Response[str]:
        def fresh_link(_: DashboardSession, tenant: Tenant) -> Response[str]:
            if tenant.edition is not Edition.QBO:
                return self.not_found()
            link = self.c().onboarding.create_link(tenant.id, self.base_url())  # as POST .../connect-links
            return self.see_other(link.url)

        return self.with_session(fresh_link, change=True)

    def web_connector_file(self) -> Response[str]:
        def download(_: DashboardSession, tenant: Tenant) -> Response[str]:
            logins = self.c().web_connector_logins
            if tenant.edition is not Edition.QBD or not logins.setup(tenant.id).issued:
                return self.not_found()
            return Response(
                status_code=200,
                content_type="application/xml",
                body=logins.qwc(tenant.id, self.base_url()),
                headers={**self.headers(), "Content-Disposition": f'attachment; filename="{tenant.id}.qwc"'},
            )

        return self.with_session(download)
