"""HTTP layer of the reconciliation queue and triage (FinanceReconciliationTriage.v1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.core.dependencies import SessionDep, WriteSessionDep
from api.core.errors import problem_responses
from api.core.pagination import CursorInvalid
from api.core.revisions import IfMatch, expected_revision
from api.core.states import TransitionIllegal
from api.idempotency.dependencies import idempotent
from api.idempotency.problems import IDEMPOTENCY_PROBLEMS
from api.reconciliation import problems, queue, service
from api.reconciliation.models import ReconciliationTriage
from api.reconciliation.schemas import (
    TRIAGE_KEY_PATTERN,
    MismatchOut,
    QueueItem,
    QueueQuery,
    QueueResponse,
    TriageActionOut,
    TriageDetailResponse,
    TriageListQuery,
    TriageListResponse,
    TriageOut,
    TriageSummary,
    TriageUpsert,
    TriageUpsertResponse,
)
from api.tenants.dependencies import FinanceReadDep, FinanceWriteDep
from api.tenants.problems import AUTH_PROBLEMS

router = APIRouter(prefix="/ops/finance/reconciliation", tags=["reconciliation"])


def _triage_out(session: SessionDep, triage: ReconciliationTriage, *, limit: int | None) -> TriageOut:
    summary = TriageSummary.model_validate(triage, from_attributes=True)
    actions = [
        TriageActionOut.model_validate(a, from_attributes=True)
        for a in service.triage_actions(session, triage, limit=limit)
    ]
    return TriageOut(**summary.model_dump(), actions=actions)


@router.get(
    "/queue", response_model=QueueResponse, responses=problem_responses(*AUTH_PROBLEMS, CursorInvalid)
)
def get_queue(
    session: SessionDep, principal: FinanceReadDep, query: Annotated[QueueQuery, Query()]
) -> QueueResponse:
    """Published mismatches of the key's tenant with their triage status (open when untriaged)."""
    count, counts, rows, next_cursor = queue.list_queue(session, tenant_id=principal.tenant_id, query=query)
    items = [
        QueueItem(
            **MismatchOut.model_validate(row.mismatch, from_attributes=True).model_dump(),
            status=row.status,
            effective_severity=row.effective_severity,
            effective_severity_rank=row.effective_severity_rank,
            is_cleared=row.mismatch.cleared_at is not None,
            is_found_after_close=row.mismatch.found_after_close_at is not None,
            triage=TriageSummary.model_validate(row.triage, from_attributes=True) if row.triage else None,
        )
        for row in rows
    ]
    return QueueResponse(count=count, limit=query.limit, offset=query.offset, next_cursor=next_cursor,
                         statusCounts=counts, items=items)  # fmt: skip


TRIAGE_PROBLEMS = (
    problems.IfMatchInvalid, problems.RevisionAmbiguous, problems.MismatchNotFound, problems.RevisionConflict,
    TransitionIllegal, problems.TriageClosed, problems.ReopenStatusConflict,
    problems.ReopenResolutionNotAllowed, problems.ReopenNotesRequired, problems.ResolutionRequired,
)  # fmt: skip


@router.post(
    "/triage",
    response_model=TriageUpsertResponse,
    responses=problem_responses(*AUTH_PROBLEMS, *IDEMPOTENCY_PROBLEMS, *TRIAGE_PROBLEMS),
)
@idempotent
def post_triage(
    body: TriageUpsert,
    session: WriteSessionDep,
    principal: FinanceWriteDep,
    if_match: IfMatch = None,
) -> TriageUpsertResponse:
    """Create or update the triage record of a published mismatch (transition table in api/reconciliation/states.py)."""
    expected = expected_revision(body.expected_revision, if_match)
    outcome = service.upsert_triage(session, principal=principal, request=body, expected_revision=expected)
    triage = _triage_out(session, outcome.triage, limit=service.RESPONSE_ACTION_COUNT)
    return TriageUpsertResponse(ok=True, changed=outcome.changed, triage=triage)


@router.get(
    "/triage", response_model=TriageListResponse, responses=problem_responses(*AUTH_PROBLEMS, CursorInvalid)
)
def get_triage_list(
    session: SessionDep, principal: FinanceReadDep, query: Annotated[TriageListQuery, Query()]
) -> TriageListResponse:
    """Triage records of the key's tenant, most recently updated first."""
    count, counts, rows, next_cursor = service.list_triage(
        session, tenant_id=principal.tenant_id, query=query
    )
    items = [TriageSummary.model_validate(row, from_attributes=True) for row in rows]
    return TriageListResponse(count=count, limit=query.limit, offset=query.offset, next_cursor=next_cursor,
                              statusCounts=counts, items=items)  # fmt: skip


@router.get(
    "/triage/{triage_key}",
    response_model=TriageDetailResponse,
    responses=problem_responses(*AUTH_PROBLEMS, problems.TriageNotFound, problems.MismatchNotFound),
)
def get_triage(
    session: SessionDep,
    principal: FinanceReadDep,
    triage_key: Annotated[str, Path(pattern=TRIAGE_KEY_PATTERN)],
) -> TriageDetailResponse:
    """One triage record with its full action log (newest first) and the mismatch it is about."""
    triage = service.get_triage(session, tenant_id=principal.tenant_id, triage_key=triage_key)
    mismatch = service.get_mismatch(session, tenant_id=principal.tenant_id, triage_key=triage_key)
    return TriageDetailResponse(
        triage=_triage_out(session, triage, limit=None),
        mismatch=MismatchOut.model_validate(mismatch, from_attributes=True),
    )
