"""The match tabs (`/dashboard/matches/<type>` for customers, vendors, employees and items): both sides of a
list, through the use cases the API's matches, links and QuickBooks listing use.

- The host app's side: what the last automatch run found for each record (Matches.results, as GET
  /matches), with Accept / Reject for a proposal (POST /matches/{id}/accept, /reject), a pick among the
  candidates of an ambiguous one (accept with the pick), Unlink (DELETE .../link), and, for a record with
  nothing found, the record page's search box to link it by hand. "Hide synchronized" (`?hide=synced`)
  leaves out the records that are linked.
- QuickBooks' side: the mirror's objects of the list (GET /quickbooks/{list}) with the record linked to each,
  objects whose name another shares marked (Matches.duplicate_names); with "Hide synchronized", only the
  objects no record is linked to.
- "Run automatch" (POST /matches for the tab's type): the page shows the run's state; the dashboard's script
  reads `/dashboard/match-run.json` while it is unfinished and loads the page again when it is done.
- "Clear all links": a page saying how many records it unlinks, then the POST (DELETE .../links?confirm=true).

Each side is paged with its own cursor link.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from qbsync.domain.dashboard import DashboardSession
from qbsync.domain.errors import DomainError, InvalidInputError, NotFoundError
from qbsync.domain.match_results import match_id_of
from qbsync.domain.mirror import LIST_OF_RECORD_TYPE, ListFilter
from qbsync.domain.tenants import Tenant
from qbsync.pages.catalogue import t
from qbsync.pages.record_actions import in_words, refusal_in_words
from qbsync.usecases.links import asked_quickbooks_id
from qbsync.usecases.matches import MATCHED_TYPES, ShownResult

if TYPE_CHECKING:
    from qbsync.pages.routes import DashboardPages

TABS = "/dashboard/matches"
RUN_JSON = "/dashboard/match-run.json"
PAGE_SIZE = 50  # rows of each side a page shows
CURSOR_MAX = 2000  # characters of a cursor read from the address
DONE = ("asked", "accepted", "rejected", "unlinked", "cleared")


def add_match_tabs(app: APIGatewayHttpResolver, pages: DashboardPages) -> None:
    tabs = MatchTabs(pages)
    app.get(RUN_JSON)(tabs.run_state)
    app.get(f"{TABS}/<record_type>")(tabs.tab)
    app.post(f"{TABS}/<record_type>/run")(tabs.run)
    app.get(f"{TABS}/<record_type>/clear")(tabs.clear_page)
    app.post(f"{TABS}/<record_type>/clear")(tabs.clear)
    app.post(f"{TABS}/<record_type>/<record_id>/accept")(tabs.accept)
    app.post(f"{TABS}/<record_type>/<record_id>/reject")(tabs.reject)
    app.post(f"{TABS}/<record_type>/<record_id>/unlink")(tabs.unlink)


class MatchTabs:
    def __init__(self, pages: DashboardPages) -> None:
        self.pages = pages

    # ------------------------------------------------------------------ pages

    def tab(self, record_type: str) -> Response[str]:
        def show(session: DashboardSession, tenant: Tenant) -> Response[str]:
            if record_type not in MATCHED_TYPES:
                return self.pages.not_found()
            return self._tab(session, tenant, record_type)

        return self.pages.with_session(show)

    def _tab(
        self,
        session: DashboardSession,
        tenant: Tenant,
        record_type: str,
        *,
        status: int = 200,
        errors: list[str] | None = None,
    ) -> Response[str]:
        c = self.pages.c()
        query = self.pages.app.current_event.query_string_parameters or {}
        hide = query.get("hide") == "synced"
        cursor = _cursor(query.get("cursor"))
        qb_cursor = _cursor(query.get("qb_cursor"))
        errors = list(errors or [])
        # The run before its results: a run read as done has stored them all, so a page never says "done"
        # beside the results of the run before (the script reloads an unfinished one once it is done).
        run = c.matches.run(tenant.id)
        try:
            results = c.matches.results(
                tenant.id, record_type=record_type, found=None, limit=PAGE_SIZE, cursor=cursor
            )
        except DomainError:  # a cursor of another list, or mistyped
            results = c.matches.results(
                tenant.id, record_type=record_type, found=None, limit=PAGE_SIZE, cursor=None
            )
            status, cursor = 422, None
            errors.append(t("matches.bad_cursor"))
        listed = LIST_OF_RECORD_TYPE[record_type].value
        linked = False if hide else None
        try:
            listing = c.quickbooks_listing.page(
                tenant.id, listed, keep=ListFilter(), linked=linked, limit=PAGE_SIZE, cursor=qb_cursor
            )
        except DomainError:
            listing = c.quickbooks_listing.page(
                tenant.id, listed, keep=ListFilter(), linked=linked, limit=PAGE_SIZE, cursor=None
            )
            status, qb_cursor = 422, None
            errors.append(t("matches.bad_cursor"))
        rows = [r for r in results.items if not (hide and r.result.linked_to is not None)]
        duplicates = {d.quickbooks_id for d in c.matches.duplicate_names(tenant.id, record_type)}
        done = query.get("done", "")
        keep = {"hide": "synced"} if hide else {}
        here = f"{TABS}/{record_type}"
        return self.pages.page(
            status,
            "matches.html",
            t("matches.title", list=t(f"list.{record_type}")),
            record_type=record_type,
            tabs=[(kind, f"{TABS}/{kind}", kind == record_type) for kind in MATCHED_TYPES],
            rows=rows,
            listing=listing,
            duplicates=duplicates,
            run=run,
            run_of_this_type=run is not None and record_type in run.record_types,
            hide=hide,
            here=here,
            next_results=_href(here, keep | {"cursor": results.next_cursor}) if results.next_cursor else None,
            next_objects=_href(here, keep | {"qb_cursor": listing.next_cursor})
            if listing.next_cursor
            else None,
            first_page=_href(here, keep) if cursor or qb_cursor else None,
            notice=t(f"matches.{done}", list=t(f"list.{record_type}")) if done in DONE else None,
            errors=errors,
            refusal_in_words=lambda r: refusal_in_words(r.code, r.message, c.settings.app_name),
            name_of=_name_of,
            **self.pages.shown(session, f"{TABS}/customer"),
        )

    def run_state(self) -> Response[str]:
        """The latest run's state, for the dashboard's script; the page loads again once the run is done."""
        pages = self.pages
        session = pages.current_session()
        if session is None:
            return pages.live_refused()
        run = pages.c().matches.run(session.tenant_id)
        if run is None:
            return pages.live(False, {})
        return pages.live(run.unfinished, {"match-run-state": t(f"matches.run.{run.state.value}")})

    def clear_page(self, record_type: str) -> Response[str]:
        def confirm(session: DashboardSession, tenant: Tenant) -> Response[str]:
            if record_type not in MATCHED_TYPES or session.read_only:
                return self.pages.not_found()
            count = self.pages.c().links.linked_count(tenant.id, record_type)
            return self.pages.page(
                200,
                "matches_clear.html",
                t("matches.clear_title", list=t(f"list.{record_type}")),
                record_type=record_type,
                count=count,
                **self.pages.shown(session, f"{TABS}/customer"),
            )

        return self.pages.with_session(confirm)

    # ------------------------------------------------------------------ forms

    def _act(self, record_type: str, act: Callable[[Tenant, dict[str, str]], str]) -> Response[str]:
        """Run `act(tenant, form)` for the tab's type, then see the tab; a refusal is the tab with it in
        words; an unknown type, record or result is 404."""
        pages = self.pages

        def run(session: DashboardSession, tenant: Tenant) -> Response[str]:
            if record_type not in MATCHED_TYPES:
                return pages.not_found()
            try:
                done = act(tenant, pages.posted_form())
            except NotFoundError:
                return pages.not_found()
            except DomainError as error:
                status = 422 if isinstance(error, InvalidInputError) else 409
                return self._tab(
                    session,
                    tenant,
                    record_type,
                    status=status,
                    errors=in_words(error, pages.c().settings.app_name),
                )
            return pages.see_other(f"{TABS}/{record_type}?done={done}")

        return pages.with_session(run, change=True)

    def run(self, record_type: str) -> Response[str]:
        def ask(tenant: Tenant, _: dict[str, str]) -> str:
            self.pages.c().matches.request(tenant.id, [record_type])
            return "asked"

        return self._act(record_type, ask)

    def accept(self, record_type: str, record_id: str) -> Response[str]:
        def accept(tenant: Tenant, form: dict[str, str]) -> str:
            pick = form.get("quickbooks_id")
            if pick is not None:
                pick = asked_quickbooks_id(pick)
            self.pages.c().matches.accept(tenant.id, match_id_of(record_type, record_id), pick)
            return "accepted"

        return self._act(record_type, accept)

    def reject(self, record_type: str, record_id: str) -> Response[str]:
        def reject(tenant: Tenant, _: dict[str, str]) -> str:
            self.pages.c().matches.reject(tenant.id, match_id_of(record_type, record_id))
            return "rejected"

        return self._act(record_type, reject)

    def unlink(self, record_type: str, record_id: str) -> Response[str]:
        def unlink(tenant: Tenant, _: dict[str, str]) -> str:
            self.pages.c().links.unlink(tenant.id, record_type, record_id)
            return "unlinked"

        return self._act(record_type, unlink)

    def clear(self, record_type: str) -> Response[str]:
        def clear(tenant: Tenant, _: dict[str, str]) -> str:
            self.pages.c().links.clear(tenant.id, record_type, confirm=True)
            return "cleared"

        return self._act(record_type, clear)


def _name_of(shown: ShownResult, quickbooks_id: str) -> str:
    """The mirror's name of one of the objects a result shows, else its id."""
    return next(
        (n.name for n in shown.candidates if n.quickbooks_id == quickbooks_id and n.name), quickbooks_id
    )


def _cursor(value: str | None) -> str | None:
    if not value:
        return None
    return value[:CURSOR_MAX]


def _href(path: str, query: dict[str, str]) -> str:
    return f"{path}?{urlencode(query)}" if query else path
