"""Automatch: match host records with the QuickBooks objects the mirror holds; accept or reject proposals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from qbsync.api.handed import Handed
from qbsync.api.models import TenantId, error_responses
from qbsync.api.routes.links import QuickBooksId
from qbsync.domain.match_results import Found, MatchResult, MatchRun, RunState
from qbsync.domain.records import RECORD_ID_MAX
from qbsync.usecases.matches import MATCHED_TYPES, RESULTS_MAX, ShownResult

router = Router()  # type: ignore[no-untyped-call]

_TYPES = "|".join(MATCHED_TYPES)
MatchedType = Annotated[str, StringConstraints(pattern=f"^({_TYPES})$")]
MatchId = Annotated[
    str, StringConstraints(pattern=rf"^({_TYPES})\.[A-Za-z0-9][A-Za-z0-9._-]{{0,{RECORD_ID_MAX - 1}}}$")
]
CURSOR_MAX = 1024
_MATCHES = "/v1/tenants/<tenant_id>/matches"


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    record_types: list[MatchedType] = Field(
        default_factory=lambda: list(MATCHED_TYPES),
        min_length=1,
        max_length=len(MATCHED_TYPES),
        description=f"The types to match ({', '.join(MATCHED_TYPES)}); all four when omitted.",
    )


class TypeSummaryOut(BaseModel):
    found: dict[str, int] = Field(
        description="Host records by what was found: linked (already), matched, ambiguous, not_found, "
        "missing_key."
    )
    auto_linked: int = Field(description="Matches linked at once (at least match_auto_accept).")
    refused: int = Field(description="Auto-accepted matches whose link was refused (see each result).")
    skipped: int = Field(description="Records whose stored data no longer parses: push them again.")
    duplicate_names: int = Field(description="QuickBooks objects whose name other objects share.")


class RunOut(BaseModel):
    run_id: str
    record_types: list[str]
    state: RunState = Field(
        description="queued, matching, linking (the matches accepted automatically), done, or failed."
    )
    requested_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    by_type: dict[str, TypeSummaryOut] = Field(
        description="Per type: what was found once matched; auto_linked and refused once done."
    )
    error: str | None = Field(description="Why the run failed, if it did.")

    @classmethod
    def of(cls, run: MatchRun) -> RunOut:
        return cls(
            run_id=run.run_id,
            record_types=list(run.record_types),
            state=run.state,
            requested_at=run.requested_at,
            updated_at=run.updated_at,
            finished_at=run.finished_at,
            by_type={
                t: TypeSummaryOut(
                    found=dict(s.found),
                    auto_linked=s.auto_linked,
                    refused=s.refused,
                    skipped=s.skipped,
                    duplicate_names=s.duplicate_names,
                )
                for t, s in run.summary.items()
            },
            error=run.error,
        )


class CandidateOut(BaseModel):
    quickbooks_id: str
    name: str | None = Field(description="As the mirror has it now; null once QuickBooks no longer has it.")
    active: bool | None
    rule: str | None = Field(
        description="sku, email, name_exact or name_similar; null for the linked object."
    )
    score: float | None = Field(description="0 to 100: 100 for a key or an equal name.")
    same_name_as: list[str] = Field(description="Other QuickBooks objects of its list with the same name.")


class RefusalOut(BaseModel):
    code: str = Field(description="inactive, linked_elsewhere, being_sent, ... as the link route answers.")
    message: str


class MatchOut(BaseModel):
    match_id: str = Field(description="The record type and the record id: 'customer.c-1'.")
    record_type: str
    record_id: str
    name: str = Field(description="The host record's name when it was matched.")
    found: Found
    state: str = Field(
        description="linked, proposed (accept or reject it), pick (ambiguous: accept one candidate), "
        "rejected, or none (nothing to decide)."
    )
    auto_accepted: bool
    linked_to: str | None = Field(description="The QuickBooks id the record is linked to, if any.")
    candidates: list[CandidateOut] = Field(
        description="Best first; the linked object last if not among them."
    )
    rivals: list[str] = Field(description="Ambiguous: other host records matched to the same object.")
    refusal: RefusalOut | None = Field(description="Why linking it was refused, if it was.")
    matched_at: datetime

    @classmethod
    def of(cls, shown: ShownResult) -> MatchOut:
        r = shown.result
        scored = {c.quickbooks_id: c for c in r.candidates}
        return cls(
            match_id=r.match_id,
            record_type=r.record_type,
            record_id=r.record_id,
            name=r.name,
            found=r.found,
            state=_state(r),
            auto_accepted=r.auto_accepted,
            linked_to=r.linked_to,
            candidates=[
                CandidateOut(
                    quickbooks_id=n.quickbooks_id,
                    name=n.name,
                    active=n.active,
                    rule=(c := scored.get(n.quickbooks_id)) and c.rule.value,
                    score=c.score if c else None,
                    same_name_as=list(n.same_name_as),
                )
                for n in shown.candidates
            ],
            rivals=list(r.rivals),
            refusal=None if r.refusal is None else RefusalOut(code=r.refusal.code, message=r.refusal.message),
            matched_at=r.at,
        )


def _state(result: MatchResult) -> str:
    if result.linked_to is not None:
        return "linked"
    if result.rejected:
        return "rejected"
    if result.found is Found.MATCHED:
        return "proposed"
    if result.found is Found.AMBIGUOUS:
        return "pick"
    return "none"


class MatchPage(BaseModel):
    run: RunOut | None = Field(description="The latest match run; null before the first.")
    items: list[MatchOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class DuplicateNameOut(BaseModel):
    quickbooks_id: str
    name: str | None = Field(description="As the mirror has it now; null once QuickBooks no longer has it.")
    active: bool | None
    same_name_as: list[str] = Field(description="The other QuickBooks objects of its list with that name.")


class DuplicateNames(BaseModel):
    items: list[DuplicateNameOut]


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quickbooks_id: QuickBooksId | None = Field(
        default=None,
        description="The candidate picked; required for an ambiguous match, else the proposal is taken.",
    )


def _json(status: int, body: BaseModel) -> Response[str]:
    return Response(status_code=status, content_type="application/json", body=body.model_dump_json())


@router.post(
    _MATCHES,
    summary="Match host records with the objects QuickBooks has (customers, vendors, employees, items)",
    description="Starts a match run in the background and answers it (202); GET /matches shows its state "
    "and, once done, its counts. Per type, every host record not deleted is matched with the company's "
    "list as qbsync last read it, by the settings' match_rules; matches at least match_auto_accept are "
    "linked, the rest are proposals. The results replace that type's previous ones.",
    tags=["matches"],
    responses=error_responses(
        {
            404: "Unknown tenant",
            409: "A list has not been read from QuickBooks yet, or a match run is unfinished",
            422: "Invalid input",
        }
    ),
)
def run_matches(c: Handed, tenant_id: Annotated[TenantId, Path()], body: RunIn) -> Response[str]:
    return _json(202, RunOut.of(c.matches.request(tenant_id, body.record_types)))


@router.get(
    _MATCHES,
    summary="The latest match results, by record type then record id",
    tags=["matches"],
    responses=error_responses({404: "Unknown tenant", 422: "Invalid input: a bad cursor ..."}),
)
def list_matches(  # noqa: PLR0917 - Powertools passes each parameter by name
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    record_type: Annotated[MatchedType | None, Query()] = None,
    outcome: Annotated[Found | None, Query(description="What was found.")] = None,
    limit: Annotated[int, Query(ge=1, le=RESULTS_MAX)] = 100,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX)] = None,
) -> Response[str]:
    page = c.matches.results(tenant_id, record_type=record_type, found=outcome, limit=limit, cursor=cursor)
    run = c.matches.run(tenant_id)
    return _json(
        200,
        MatchPage(
            run=None if run is None else RunOut.of(run),
            items=[MatchOut.of(s) for s in page.items],
            next_cursor=page.next_cursor,
        ),
    )


@router.get(
    f"{_MATCHES}/duplicate-names",
    summary="The QuickBooks objects of a type whose names others of its list share, as the last run found",
    description="Automatch cannot tell such objects apart by name: merge or rename them in QuickBooks, or "
    "pick one when a match lists them as candidates.",
    tags=["matches"],
    responses=error_responses({404: "Unknown tenant", 422: "Invalid input: no or an unmatched record_type"}),
)
def list_duplicate_names(
    c: Handed, tenant_id: Annotated[TenantId, Path()], record_type: Annotated[MatchedType, Query()]
) -> Response[str]:
    items = [
        DuplicateNameOut(
            quickbooks_id=n.quickbooks_id, name=n.name, active=n.active, same_name_as=list(n.same_name_as)
        )
        for n in c.matches.duplicate_names(tenant_id, record_type)
    ]
    return _json(200, DuplicateNames(items=items))


@router.post(
    f"{_MATCHES}/<match_id>/accept",
    summary="Accept a match: link the record to the proposed object (ambiguous: to the candidate picked)",
    tags=["matches"],
    responses=error_responses(
        {
            404: "Unknown tenant or match",
            409: "Nothing to accept, rejected, or the link is refused (`errors[0].code` says why)",
            422: "Invalid input: no pick for an ambiguous match, or a pick that is not a candidate",
        }
    ),
)
def accept_match(
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    match_id: Annotated[MatchId, Path()],
    body: Annotated[AcceptIn | None, Body()] = None,
) -> Response[str]:
    pick = body.quickbooks_id if body is not None else None
    return _json(200, MatchOut.of(c.matches.accept(tenant_id, match_id, pick)))


@router.post(
    f"{_MATCHES}/<match_id>/reject",
    summary="Reject a match: the record is none of its candidates; no later match proposes them again",
    tags=["matches"],
    responses=error_responses({404: "Unknown tenant or match", 409: "Nothing to reject, or linked already"}),
)
def reject_match(
    c: Handed, tenant_id: Annotated[TenantId, Path()], match_id: Annotated[MatchId, Path()]
) -> Response[str]:
    return _json(200, MatchOut.of(c.matches.reject(tenant_id, match_id)))
