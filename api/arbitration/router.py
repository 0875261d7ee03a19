"""HTTP layer of disputes (`/ops/settlements/{id}/disputes`) and arbitration (`/ops/arbitration`).

Reads need finance_read, finance_write or ops_read; writes finance_write or ops_write. Every write takes
Idempotency-Key and If-Match (or `expected_revision`); another tenant's record is a 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.arbitration import cases, problems, service
from api.arbitration.query import QueueQuery, parse_filters, parse_sla_hours
from api.arbitration.queue import list_queue
from api.arbitration.schemas import (
    ID_PATTERN,
    CaseAppeal,
    CaseAssign,
    CaseClose,
    CaseEvidence,
    CaseOpen,
    CaseResponse,
    CaseVerdict,
    DisputeClose,
    DisputeEscalate,
    DisputeEvidence,
    DisputeOpen,
    DisputeResponse,
    QueueItem,
    QueueResponse,
    WorkspaceResponse,
)
from api.arbitration.workspace import get_workspace
from api.billing.problems import PlanLimitExceeded
from api.core.dependencies import NowDep, SessionDep, WriteSessionDep
from api.core.errors import problem_responses
from api.core.pagination import CursorInvalid
from api.core.revisions import IfMatch, expected_revision
from api.core.states import TransitionIllegal
from api.idempotency.dependencies import idempotent
from api.idempotency.problems import IDEMPOTENCY_PROBLEMS
from api.tenants.dependencies import Principal, require_scopes
from api.tenants.models import Scope
from api.tenants.problems import AUTH_PROBLEMS

router = APIRouter(tags=["arbitration"])
ReadDep = Annotated[
    Principal, Depends(require_scopes(Scope.finance_read, Scope.finance_write, Scope.ops_read))
]
WriteDep = Annotated[Principal, Depends(require_scopes(Scope.finance_write, Scope.ops_write))]
IdPath = Annotated[str, Path(pattern=ID_PATTERN)]
WRITE_PROBLEMS = (*AUTH_PROBLEMS, *IDEMPOTENCY_PROBLEMS, problems.IfMatchInvalid, problems.RevisionAmbiguous,
                  problems.RevisionConflict, TransitionIllegal)  # fmt: skip
DISPUTE_PROBLEMS = (
    *WRITE_PROBLEMS,
    problems.SettlementNotFound,
    problems.DisputeNotFound,
    problems.DisputeClosed,
)
CASE_PROBLEMS = (
    *WRITE_PROBLEMS,
    problems.CaseNotFound,
    problems.SettlementNotFound,
    problems.DisputeNotFound,
)


def _dispute(outcome: service.DisputeOutcome) -> DisputeResponse:
    return DisputeResponse(changed=outcome.changed, dispute=service.dispute_out(outcome.dispute),
                           adjustment=service.adjustment_out(outcome.adjustment))  # fmt: skip


def _case(outcome: cases.CaseOutcome) -> CaseResponse:
    return CaseResponse(changed=outcome.changed, case=cases.case_out(outcome.case),
                        adjustment=service.adjustment_out(outcome.adjustment))  # fmt: skip


@router.post("/ops/settlements/{settlement_id}/disputes", status_code=201, response_model=DisputeResponse,
             responses=problem_responses(*DISPUTE_PROBLEMS, problems.DisputeWindowExpired,
                                         problems.DisputeAlreadyOpen, problems.DisputeIdTaken))  # fmt: skip
@idempotent(status_code=201)
def post_dispute(body: DisputeOpen, session: WriteSessionDep, principal: WriteDep, now: NowDep,
                 settlement_id: IdPath) -> DisputeResponse:  # fmt: skip
    """Open a dispute: the settlement must be resolved and its dispute window open; one open at a time."""
    return _dispute(service.open_dispute(session, principal=principal, settlement_id=settlement_id,
                                         request=body, now=now))  # fmt: skip


@router.get("/ops/settlements/{settlement_id}/disputes/{dispute_id}", response_model=DisputeResponse,
            responses=problem_responses(*AUTH_PROBLEMS, problems.DisputeNotFound))  # fmt: skip
def get_dispute(
    session: SessionDep, principal: ReadDep, settlement_id: IdPath, dispute_id: IdPath
) -> DisputeResponse:
    dispute = service.get_dispute(session, tenant_id=principal.tenant_id, dispute_id=dispute_id,
                                  settlement_id=settlement_id)  # fmt: skip
    return DisputeResponse(changed=False, dispute=service.dispute_out(dispute))


@router.post("/ops/settlements/{settlement_id}/disputes/{dispute_id}/evidence", response_model=DisputeResponse,
             responses=problem_responses(*DISPUTE_PROBLEMS))  # fmt: skip
@idempotent
def post_dispute_evidence(body: DisputeEvidence, session: WriteSessionDep, principal: WriteDep, now: NowDep,
                          settlement_id: IdPath, dispute_id: IdPath, if_match: IfMatch = None) -> DisputeResponse:  # fmt: skip
    body.expected_revision = expected_revision(body.expected_revision, if_match)
    return _dispute(service.add_dispute_evidence(session, principal=principal, settlement_id=settlement_id,
                                                 dispute_id=dispute_id, request=body, now=now))  # fmt: skip


@router.post("/ops/settlements/{settlement_id}/disputes/{dispute_id}/escalate", response_model=DisputeResponse,
             responses=problem_responses(*DISPUTE_PROBLEMS))  # fmt: skip
@idempotent
def post_dispute_escalate(body: DisputeEscalate, session: WriteSessionDep, principal: WriteDep, now: NowDep,
                          settlement_id: IdPath, dispute_id: IdPath, if_match: IfMatch = None) -> DisputeResponse:  # fmt: skip
    body.expected_revision = expected_revision(body.expected_revision, if_match)
    return _dispute(service.escalate_dispute(session, principal=principal, settlement_id=settlement_id,
                                             dispute_id=dispute_id, request=body, now=now))  # fmt: skip


@router.post("/ops/settlements/{settlement_id}/disputes/{dispute_id}/close", response_model=DisputeResponse,
             responses=problem_responses(*DISPUTE_PROBLEMS, problems.DisputeHasActiveCase))  # fmt: skip
@idempotent
def post_dispute_close(body: DisputeClose, session: WriteSessionDep, principal: WriteDep, now: NowDep,
                       settlement_id: IdPath, dispute_id: IdPath, if_match: IfMatch = None) -> DisputeResponse:  # fmt: skip
    """Close without arbitration; with `release_rate_pct` the settlement is adjusted to it."""
    body.expected_revision = expected_revision(body.expected_revision, if_match)
    return _dispute(service.close_dispute(session, principal=principal, settlement_id=settlement_id,
                                          dispute_id=dispute_id, request=body, now=now))  # fmt: skip


@router.get("/ops/arbitration/queue", response_model=QueueResponse,
            responses=problem_responses(*AUTH_PROBLEMS, CursorInvalid, *problems.QUEUE_QUERY_PROBLEMS))  # fmt: skip
def get_queue(session: SessionDep, principal: ReadDep, now: NowDep,
              query: Annotated[QueueQuery, Query()]) -> QueueResponse:  # fmt: skip
    """Cases over SLA first, then oldest, then case id; `next_cursor` pages over the first page's snapshot."""
    filters = parse_filters(query)
    page = list_queue(session, tenant_id=principal.tenant_id, filters=filters, limit=query.limit,
                      cursor=query.cursor, now=now)  # fmt: skip
    return QueueResponse(tenant_id=principal.tenant_id, as_of=page.as_of, filters=filters.as_dict(),
                         count=page.count, limit=query.limit, next_cursor=page.next_cursor,
                         over_sla_count=page.over_sla_count, status_counts=page.status_counts,
                         queue=[QueueItem(**item) for item in page.items])  # fmt: skip


@router.get("/ops/arbitration/cases/{case_id}", response_model=CaseResponse,
            responses=problem_responses(*AUTH_PROBLEMS, problems.CaseNotFound))  # fmt: skip
def get_case(session: SessionDep, principal: ReadDep, case_id: IdPath) -> CaseResponse:
    case = cases.get_case(session, tenant_id=principal.tenant_id, case_id=case_id)
    return CaseResponse(changed=False, case=cases.case_out(case))


@router.get("/ops/arbitration/cases/{case_id}/workspace", response_model=WorkspaceResponse,
            responses=problem_responses(*AUTH_PROBLEMS, problems.CaseNotFound, problems.SettlementNotFound,
                                        problems.DisputeNotFound, problems.QueueSlaHoursInvalid))  # fmt: skip
def get_case_workspace(session: SessionDep, principal: ReadDep, now: NowDep, case_id: IdPath,
                       sla_hours: Annotated[str | None, Query(description="Default 24.")] = None) -> WorkspaceResponse:  # fmt: skip
    hours = 24.0 if sla_hours is None else parse_sla_hours(sla_hours)
    return get_workspace(session, principal=principal, case_id=case_id, sla_hours=hours, now=now)


@router.post("/ops/arbitration/cases", status_code=201, response_model=CaseResponse,
             responses=problem_responses(*CASE_PROBLEMS, problems.CaseIdTaken, problems.ArbiterRequired,
                                         problems.EvidenceOutsideDispute, PlanLimitExceeded))  # fmt: skip
@idempotent(status_code=201)
def post_case(body: CaseOpen, session: WriteSessionDep, principal: WriteDep, now: NowDep) -> CaseResponse:
    """Open a case on an open dispute: `arbiter_agent_id`, or a deterministic draw from
    `panel_candidate_agent_ids` (under_review), or neither (open, to be assigned)."""
    return _case(cases.open_case(session, principal=principal, request=body, now=now))


@router.post("/ops/arbitration/cases/{case_id}/assign", response_model=CaseResponse,
             responses=problem_responses(*CASE_PROBLEMS, problems.ArbiterRequired))  # fmt: skip
@idempotent
def post_case_assign(body: CaseAssign, session: WriteSessionDep, principal: WriteDep, now: NowDep,
                     case_id: IdPath, if_match: IfMatch = None) -> CaseResponse:  # fmt: skip
    body.expected_revision = expected_revision(body.expected_revision, if_match)
    return _case(cases.assign_case(session, principal=principal, case_id=case_id, request=body, now=now))


@router.post("/ops/arbitration/cases/{case_id}/evidence", response_model=CaseResponse,
             responses=problem_responses(*CASE_PROBLEMS, problems.EvidenceOutsideDispute))  # fmt: skip
@idempotent
def post_case_evidence(body: CaseEvidence, session: WriteSessionDep, principal: WriteDep, now: NowDep,
                       case_id: IdPath, if_match: IfMatch = None) -> CaseResponse:  # fmt: skip
    body.expected_revision = expected_revision(body.expected_revision, if_match)
    return _case(
        cases.add_case_evidence(session, principal=principal, case_id=case_id, request=body, now=now)
    )


@router.post("/ops/arbitration/cases/{case_id}/verdict", response_model=CaseResponse,
             responses=problem_responses(*CASE_PROBLEMS, problems.DisputeWindowExpired,
                                         problems.VerdictIssuedAtInvalid, problems.EvidenceOutsideDispute))  # fmt: skip
@idempotent
def post_case_verdict(body: CaseVerdict, session: WriteSessionDep, principal: WriteDep, now: NowDep,
                      case_id: IdPath, if_match: IfMatch = None) -> CaseResponse:  # fmt: skip
    body.expected_revision = expected_revision(body.expected_revision, if_match)
    return _case(cases.issue_verdict(session, principal=principal, case_id=case_id, request=body, now=now))


@router.post("/ops/arbitration/cases/{case_id}/close", response_model=CaseResponse,
             responses=problem_responses(*CASE_PROBLEMS))  # fmt: skip
@idempotent
def post_case_close(body: CaseClose, session: WriteSessionDep, principal: WriteDep, now: NowDep,
                    case_id: IdPath, if_match: IfMatch = None) -> CaseResponse:  # fmt: skip
    """Close a case with a verdict: closes the dispute with it and adjusts the settlement to its rate."""
    body.expected_revision = expected_revision(body.expected_revision, if_match)
    return _case(cases.close_case(session, principal=principal, case_id=case_id, request=body, now=now))


@router.post("/ops/arbitration/cases/{case_id}/appeal", status_code=201, response_model=CaseResponse,
             responses=problem_responses(*CASE_PROBLEMS, problems.AppealParentInvalid, problems.CaseIdTaken,
                                         problems.DisputeWindowExpired, problems.ArbiterRequired))  # fmt: skip
@idempotent(status_code=201)
def post_case_appeal(body: CaseAppeal, session: WriteSessionDep, principal: WriteDep, now: NowDep,
                     case_id: IdPath) -> CaseResponse:  # fmt: skip
    """Appeal a case with a verdict while the dispute window is open: a child case with `appeal_ref`."""
    return _case(cases.appeal_case(session, principal=principal, case_id=case_id, request=body, now=now))
