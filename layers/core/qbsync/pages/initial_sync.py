"""The Initial sync page (`/dashboard/initial-sync`): the dry run's summary and the settings it follows before
a run starts, a Start button (as POST /initial-sync), then the run's step, its progress per type and its
errors, as GET /initial-sync gives them. `/dashboard/initial-sync.json` gives the progress to the
dashboard's script; without JavaScript the page has a Refresh link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response

from qbsync.domain.errors import ConflictError, DomainError, NotFoundError
from qbsync.domain.initial_sync import Step
from qbsync.domain.settings import SyncSettings
from qbsync.domain.tenants import Edition, Tenant
from qbsync.pages.catalogue import t
from qbsync.pages.render import live_bar
from qbsync.usecases.initial_sync import Status, TypeProgress
from qbsync.usecases.settings import settings_in_force

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    from qbsync.domain.dashboard import DashboardSession
    from qbsync.pages.routes import DashboardPages

PATH = "/dashboard/initial-sync"
ERRORS_SHOWN = 20  # failed records a page of the errors list shows
CURSOR_MAX = 2048  # as GET /initial-sync's errors_cursor
# The summary's columns, in the order a bookkeeper reads them.
SUMMARY_COLUMNS = (
    "in_quickbooks",
    "in_app",
    "matched",
    "to_review",
    "to_create_in_quickbooks",
    "to_create_in_app",
    "ignored",
)
IGNORED_REASONS = (
    "only_in_app",
    "only_in_quickbooks",
    "before_since",
    "payment_method",
    "depends_on_ignored",
)


# Before the run sends, its records' states say nothing of its progress (drafts count as settled).
SENDS = (Step.SENDING, Step.DONE)


@dataclass(frozen=True)
class ProgressRow:
    record_type: str
    type_name: str
    progress: TypeProgress
    sending: bool  # False before the run sends: the bar shows no value yet

    @property
    def percent(self) -> int | None:
        return self.progress.percent if self.sending else None

    @property
    def label(self) -> str:
        if self.percent is None:
            return t("initial.progress_waiting", type=self.type_name)
        return t("initial.progress_label", type=self.type_name, percent=self.percent)

    @property
    def tally(self) -> str:
        p = self.progress
        return t(
            "initial.tally",
            synced=p.synced,
            failed=p.failed,
            ignored=p.ignored,
            waiting=p.waiting,
            left=p.left,
        )

    @property
    def percent_text(self) -> str:
        return t("initial.not_yet") if self.percent is None else t("counts.percent", percent=self.percent)


def add_initial_sync_page(app: APIGatewayHttpResolver, pages: DashboardPages) -> None:
    view = InitialSyncPage(pages)
    app.get(PATH)(view.show)
    app.get(f"{PATH}.json")(view.progress)
    app.post(f"{PATH}/start")(view.start)


@dataclass
class InitialSyncPage:
    pages: DashboardPages

    def show(self) -> Response[str]:
        return self.pages.with_session(lambda session, tenant: self._page(200, session, tenant))

    def start(self) -> Response[str]:
        def start_run(session: DashboardSession, tenant: Tenant) -> Response[str]:
            try:
                self.pages.c().initial_syncs.start(tenant.id)  # as POST /v1/tenants/{id}/initial-sync
            except ConflictError:
                return self._page(409, session, tenant, alert=t("initial.running_already"))
            return self.pages.see_other(PATH)

        return self.pages.with_session(start_run, change=True)

    def progress(self) -> Response[str]:
        """The run's step, note and progress per type, for the dashboard's script."""
        pages = self.pages
        session = pages.current_session()
        tenant = pages.c().tenants.get(session.tenant_id) if session else None
        if session is None or tenant is None:
            return pages.live_refused()
        status = self._status(tenant, None, 1)
        if status is None:
            return pages.json(404, {"detail": t("initial.none")})
        text = {"step": t(f"initial.step.{status.sync.step.value}"), "note": _note(status, tenant)}
        bars = {}
        for row in _rows(status):
            text[f"percent-{row.record_type}"] = row.percent_text
            text[f"tally-{row.record_type}"] = row.tally
            bars[f"progress-{row.record_type}"] = live_bar(row.percent, row.percent_text, row.label)
        return pages.live(status.sync.running, text, bars)

    # ------------------------------------------------------------------ the page

    def _page(
        self, code: int, session: DashboardSession, tenant: Tenant, *, alert: str | None = None
    ) -> Response[str]:
        query = self.pages.app.current_event.query_string_parameters or {}
        cursor = query.get("errors") or None
        if cursor is not None and len(cursor) > CURSOR_MAX:
            return self.pages.message(400, "initial.bad_cursor", back=True)
        try:
            status = self._status(tenant, cursor, ERRORS_SHOWN)
        except DomainError:  # a cursor that is not one of ours
            return self.pages.message(400, "initial.bad_cursor", back=True)
        running = status is not None and status.sync.running
        c = self.pages.c()
        _, settings = settings_in_force(c.tenant_settings, tenant.id)
        summary = None if running else c.initial_syncs.dry_run(tenant.id)
        return self.pages.page(
            code,
            "initial_sync.html",
            t("initial.title"),
            alert=alert,
            run=status,
            running=running,
            note=_note(status, tenant) if status else None,
            step_text=t(f"initial.step.{status.sync.step.value}") if status else None,
            rows=_rows(status) if status else [],
            summary=summary,
            summary_columns=[(column, t(f"initial.column.{column}")) for column in SUMMARY_COLUMNS],
            reasons=[(reason, t(f"initial.ignored.{reason}")) for reason in IGNORED_REASONS],
            type_names={
                record_type: t(f"type.{record_type}") for record_type in (summary.counts if summary else ())
            },
            follows=_follows(settings, tenant),
            errors=status.errors.items if status else [],
            errors_next=status.errors.next_cursor if status else None,
            errors_paged=cursor is not None,
            **self.pages.shown(session, PATH),
        )

    def _status(self, tenant: Tenant, cursor: str | None, limit: int) -> Status | None:
        """The tenant's run brought up to date (GET /initial-sync); None when it never had one."""
        try:
            return self.pages.c().initial_syncs.status(tenant.id, cursor, limit)
        except NotFoundError:
            return None


def _rows(status: Status) -> list[ProgressRow]:
    """Progress of the types that have records."""
    return [
        ProgressRow(record_type, t(f"type.{record_type}"), progress, status.sync.step in SENDS)
        for record_type, progress in status.progress.items()
        if progress.in_scope
    ]


def _note(status: Status, tenant: Tenant) -> str:
    """What the run does or waits for, in the catalogue's words."""
    desktop = tenant.edition is Edition.QBD
    step = status.sync.step
    left = sum(p.left for p in status.progress.values())
    if step is Step.SENDING:
        return t("initial.note.sending_desktop" if desktop and left else "initial.note.sending", left=left)
    if step is Step.READING and desktop:
        return t("initial.note.reading_desktop")
    if step is Step.MATCHING and desktop:
        return t("initial.note.matching_desktop")
    return t(f"initial.note.{step.value}")


def _follows(settings: SyncSettings, tenant: Tenant) -> list[tuple[str, str]]:
    """The settings the initial sync follows, as (what, value) in words."""
    app = tenant.name
    since = settings.sync_since
    methods = settings.payment_methods_to_sync
    return [
        (
            t("settings.only_in_quickbooks"),
            t(f"settings.only_in_quickbooks.{settings.only_in_quickbooks.value}"),
        ),
        (t("settings.only_in_app"), t(f"settings.only_in_app.{settings.only_in_app.value}", app=app)),
        (t("settings.sync_since"), since.isoformat() if since else t("initial.since_all")),
        (t("settings.payment_methods_to_sync"), ", ".join(methods) if methods else t("initial.methods_all")),
    ]
