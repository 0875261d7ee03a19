"""HTTP layer of period gate verdicts and period closes (finance_read to look, finance_write to close)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Body, Path, Request

from api.core.database import utc_now
from api.core.dependencies import SessionDep, WriteSessionDep
from api.core.errors import problem_responses
from api.core.states import TransitionIllegal
from api.idempotency.dependencies import idempotent
from api.idempotency.problems import IDEMPOTENCY_PROBLEMS
from api.periods import service
from api.periods.problems import (
    ClosedAtInvalid,
    EvidenceIncomplete,
    PeriodGateFailed,
    PeriodNotClosed,
    ReasonRequired,
)
from api.periods.schemas import (
    CloseRequest,
    CloseResponse,
    PeriodCloseOut,
    PeriodOut,
    ReopenRequest,
    VerdictOut,
)
from api.tenants.dependencies import FinanceReadDep, FinanceWriteDep
from api.tenants.problems import AUTH_PROBLEMS

router = APIRouter(prefix="/ops/finance/periods", tags=["periods"])
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
PeriodPath = Annotated[str, Path(pattern=PERIOD_PATTERN, description="A UTC month, YYYY-MM.")]


@router.get("/{period}", response_model=PeriodOut, responses=problem_responses(*AUTH_PROBLEMS))
def get_period(session: SessionDep, principal: FinanceReadDep, period: PeriodPath) -> PeriodOut:
    """The period's close record (if any) and its latest gate verdict (if any) for the key's tenant."""
    record = service.get_close(session, tenant_id=principal.tenant_id, period=period)
    verdict = service.get_verdict(session, tenant_id=principal.tenant_id, period=period)
    gate = None
    if verdict is not None:
        gate = VerdictOut(
            verdict_hash=verdict.verdict_hash,
            ok=verdict.ok,
            failing_check_ids=json.loads(verdict.failing_check_ids),
            recorded_at=verdict.recorded_at,
            verdict=json.loads(verdict.verdict),
        )
    return PeriodOut(
        period=period, close=PeriodCloseOut.model_validate(record) if record else None, gate=gate
    )


@router.post(
    "/{period}/close",
    response_model=CloseResponse,
    responses=problem_responses(
        *AUTH_PROBLEMS,
        *IDEMPOTENCY_PROBLEMS,
        PeriodGateFailed,
        EvidenceIncomplete,
        ClosedAtInvalid,
        TransitionIllegal,
    ),
)
@idempotent
def post_close(
    request: Request,
    session: WriteSessionDep,
    principal: FinanceWriteDep,
    period: PeriodPath,
    body: Annotated[CloseRequest | None, Body()] = None,
) -> CloseResponse:
    """Close the period when its gate is green: record it and write the evidence bundle (once the close
    has committed), as of `closed_at` (default: the verdict's asOf). Closing a closed period changes
    nothing and returns the same record and bundle."""
    outcome = service.close_period(
        session,
        context=principal.audit_context,
        period=period,
        artifacts_dir=request.app.state.settings.artifacts_dir,
        now=utc_now(),
        closed_at=body.closed_at if body else None,
    )
    return CloseResponse(changed=outcome.changed, close=PeriodCloseOut.model_validate(outcome.record))


@router.post(
    "/{period}/reopen",
    response_model=CloseResponse,
    responses=problem_responses(
        *AUTH_PROBLEMS, *IDEMPOTENCY_PROBLEMS, PeriodNotClosed, ReasonRequired, TransitionIllegal
    ),
)
@idempotent
def post_reopen(
    body: ReopenRequest, session: WriteSessionDep, principal: FinanceWriteDep, period: PeriodPath
) -> CloseResponse:
    """Reopen a closed period (audited, with the reason). Reopening an open period changes nothing."""
    if not body.reason.strip():
        raise ReasonRequired()
    outcome = service.reopen_period(
        session, context=principal.audit_context, period=period, reason=body.reason.strip(), now=utc_now()
    )
    return CloseResponse(changed=outcome.changed, close=PeriodCloseOut.model_validate(outcome.record))
