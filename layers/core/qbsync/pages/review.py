"""The Review queue (`/dashboard/review`): in review send mode, the drafts and pending records of one type at
a time (GET .../records/{type}?state=draft,pending&q=...), paged, to send (as POST /sync) or take back to
draft (as the unpend route) many at once. The outcome of each record is carried by the redirect's address
(`result=type/id:status`) and said in words on the page it leads to, read from the session's tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode

from qbsync.domain.errors import DomainError
from qbsync.domain.records import RECORD_TYPES, RecordFilter
from qbsync.domain.settings import SendMode
from qbsync.domain.sync import SyncRecord, SyncState
from qbsync.pages.catalogue import t
from qbsync.usecases.dashboard import records_overview
from qbsync.usecases.settings import settings_in_force

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

    from qbsync.domain.dashboard import DashboardSession
    from qbsync.domain.tenants import Tenant
    from qbsync.pages.routes import DashboardPages

PATH = "/dashboard/review"
PAGE = 50  # records a page of the queue shows, and a form may send or take back at once
QUEUED = frozenset({SyncState.DRAFT, SyncState.PENDING})
Q_MAX = 200
CURSOR_MAX = 2048
ACTIONS = ("send", "unpend")
OUTCOMES = ("updated", "unchanged", "refused")
RECORD_ID_MAX = 64  # domain/records.py RecordId


@dataclass(frozen=True)
class Tab:
    record_type: str
    label: str
    count: int
    current: bool


@dataclass(frozen=True)
class Result:
    """What a send or unpend did to one record, in words."""

    label: str
    words: str
    done: bool


def add_review_page(app: APIGatewayHttpResolver, pages: DashboardPages) -> None:
    view = ReviewPage(pages)
    app.get(PATH)(view.show)
    app.post(PATH)(view.act)


@dataclass
class ReviewPage:
    pages: DashboardPages

    def show(self) -> Response[str]:
        return self.pages.with_session(lambda session, tenant: self._page(200, session, tenant))

    def act(self) -> Response[str]:
        def send_or_unpend(session: DashboardSession, tenant: Tenant) -> Response[str]:
            form = self.pages.posted_fields()
            action = (form.get("action") or [""])[0]
            chosen = list(dict.fromkeys(form.get("record", [])))
            if action not in ACTIONS:
                return self._page(422, session, tenant, alert=t("review.no_action"))
            if not chosen or len(chosen) > PAGE:
                return self._page(422, session, tenant, alert=t("review.choose", limit=PAGE))
            keys = [_key(raw) for raw in chosen]
            records = self.pages.c().records
            known = [k for k in keys if k is not None]
            # as POST /v1/tenants/{id}/sync and .../unpend: the session's tenant's records only
            outcomes = (
                records.send(tenant.id, known) if action == "send" else records.unpend(tenant.id, known)
            )
            results = [f"{k[0]}/{o.record_id}:{o.status}" for k, o in zip(known, outcomes, strict=True)]
            results += [f"{raw[:100]}:refused" for raw, k in zip(chosen, keys, strict=True) if k is None]
            back = {"type": (form.get("type") or [""])[0], "q": (form.get("q") or [""])[0]}
            query = {k: v for k, v in back.items() if v} | {"done": action}
            return self.pages.see_other(
                f"{PATH}?{urlencode([*query.items(), *(('result', r) for r in results)])}"
            )

        return self.pages.with_session(send_or_unpend, change=True)

    def _page(
        self, code: int, session: DashboardSession, tenant: Tenant, *, alert: str | None = None
    ) -> Response[str]:
        c = self.pages.c()
        event = self.pages.app.current_event
        query = event.query_string_parameters or {}
        _, settings = settings_in_force(c.tenant_settings, tenant.id)
        q = (query.get("q") or "").strip()[:Q_MAX] or None
        cursor = query.get("cursor") or None
        tabs = self._tabs(tenant, query.get("type", ""))
        current = next((tab.record_type for tab in tabs if tab.current), None)
        records: list[SyncRecord] = []
        next_cursor = None
        if current is not None and settings.send_mode is SendMode.REVIEW:
            if cursor is not None and len(cursor) > CURSOR_MAX:
                return self.pages.message(400, "review.bad_cursor", back=True)
            try:
                page = c.records.list_records(tenant.id, current, RecordFilter(QUEUED, q), PAGE, cursor)
            except DomainError:  # a cursor that is not one of ours
                return self.pages.message(400, "review.bad_cursor", back=True)
            records, next_cursor = page.items, page.next_cursor
        done = query.get("done", "")
        results = self._results(tenant, done, _query_lists(event.raw_query_string or ""))
        return self.pages.page(
            code,
            "review.html",
            t("review.title"),
            review_mode=settings.send_mode is SendMode.REVIEW,
            alert=alert,
            tabs=tabs,
            current=current,
            current_name=t(f"type.{current}") if current else "",
            q=q or "",
            records=records,
            state_of={r.key: t(f"state.{r.state.value}") for r in records},
            next_page=f"{PATH}?{urlencode({'type': current, 'q': q or '', 'cursor': next_cursor})}"
            if next_cursor
            else None,
            paged=cursor is not None,
            results=results,
            results_heading=t(f"review.done.{done}") if done in ACTIONS and results else "",
            **self.pages.shown(session, PATH),
        )

    def _tabs(self, tenant: Tenant, asked: str) -> list[Tab]:
        """The record types with drafts or pending records (and the one asked for), the current one marked."""
        by_type = records_overview(self.pages.c().statuses, tenant.id, failed_limit=0).by_type
        counts = {row.record_type: row.counts["draft"] + row.counts["pending"] for row in by_type}
        shown = [rt for rt in RECORD_TYPES if counts.get(rt) or rt == asked]
        current = asked if asked in shown else next(iter(shown), None)
        return [Tab(rt, t(f"type.{rt}"), counts.get(rt, 0), rt == current) for rt in shown]

    def _results(self, tenant: Tenant, done: str, params: dict[str, list[str]]) -> list[Result]:
        """The outcomes the redirect's address names, in words, read from the session's tenant's records."""
        if done not in ACTIONS:
            return []
        wanted: list[tuple[str, str, str]] = []
        for raw in params.get("result", [])[:PAGE]:
            ref, _, status = raw.rpartition(":")
            record_type, _, record_id = ref.partition("/")
            wanted.append((record_type, record_id, status if status in OUTCOMES else "refused"))
        from qbsync.pages.routes import record_label  # here: routes imports this module

        results = []
        for record_type, record_id, status in wanted:
            record = self.pages.find_record(tenant, record_type, record_id)
            if record is None:
                results.append(Result(record_id, t("review.result.missing"), done=False))
                continue
            label = t("failed.of", type=t(f"type.{record_type}"), label=record_label(record))
            results.append(Result(label, _in_words(done, status, record), done=status == "updated"))
        return results


def _query_lists(raw: str) -> dict[str, list[str]]:
    """The address's parameters, each with all its values; none when there are more than a page's worth."""
    try:
        return parse_qs(raw, max_num_fields=PAGE + 5)
    except ValueError:
        return {}


def _key(raw: str) -> tuple[str, str] | None:
    """A checkbox's value `type/id` as a record key; None when it cannot name a record."""
    record_type, _, record_id = raw.partition("/")
    if record_type not in RECORD_TYPES or not record_id or len(record_id) > RECORD_ID_MAX:
        return None
    return record_type, record_id


def _in_words(done: str, status: str, record: SyncRecord) -> str:
    state = t(f"state.{record.state.value}")
    if status == "updated":
        return t(f"review.result.{done}")
    if status == "refused":
        return t("review.result.missing")
    if done == "unpend" and record.state is SyncState.SYNCING:
        return t("review.result.syncing")
    return t(f"review.result.not_{done}", state=state.lower())
