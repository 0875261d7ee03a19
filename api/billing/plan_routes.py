"""HTTP layer of a tenant's billing plan, subscription and usage summary (finance_read to look,
finance_write to change; every change takes Idempotency-Key, honours If-Match and is audited)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query

from api.billing import service
from api.billing.limits import period_of
from api.billing.problems import PeriodInvalid, SchemaInvalid
from api.billing.schemas import PlanOut, PlanPut, SubscriptionOut, SubscriptionPut, SummaryOut
from api.billing.usage import period_summary
from api.core.dependencies import NowDep, SessionDep, WriteSessionDep
from api.core.errors import problem_responses
from api.core.revisions import IfMatch, IfMatchInvalid, RevisionAmbiguous, RevisionConflict, expected_revision
from api.idempotency.dependencies import idempotent
from api.idempotency.problems import IDEMPOTENCY_PROBLEMS
from api.tenants.dependencies import FinanceReadDep, FinanceWriteDep
from api.tenants.problems import AUTH_PROBLEMS, TenantNotFound

router = APIRouter(prefix="/ops/finance/billing", tags=["billing"])
PERIOD = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
READ_PROBLEMS = (*AUTH_PROBLEMS, TenantNotFound)
WRITE_PROBLEMS = (*READ_PROBLEMS, *IDEMPOTENCY_PROBLEMS, SchemaInvalid, IfMatchInvalid, RevisionAmbiguous,
                  RevisionConflict)  # fmt: skip


@router.get("/plan", response_model=PlanOut, responses=problem_responses(*READ_PROBLEMS))
def get_plan(session: SessionDep, principal: FinanceReadDep) -> PlanOut:
    """The plan the tenant is billed on now, its terms (the catalog's, with the tenant's overrides) and
    whether its hard limit is enforced."""
    return service.plan_out(session, principal.tenant_id)


@router.put("/plan", response_model=PlanOut, responses=problem_responses(*WRITE_PROBLEMS))
@idempotent
def put_plan(body: PlanPut, session: WriteSessionDep, principal: FinanceWriteDep, now: NowDep,
             if_match: IfMatch = None) -> PlanOut:  # fmt: skip
    """Configure the plan (a catalog plan), its overrides and enforcement; an unknown plan or a bad
    override is 400 SCHEMA_INVALID naming each field. Audited as BILLING_PLAN_UPSERT."""
    expected = expected_revision(body.expected_revision, if_match)
    return service.put_plan(session, context=principal.audit_context, body=body, expected=expected, now=now)


@router.get(
    "/subscription", response_model=SubscriptionOut | None, responses=problem_responses(*READ_PROBLEMS)
)
def get_subscription(session: SessionDep, principal: FinanceReadDep) -> SubscriptionOut | None:
    """The tenant's provider subscription (null: none recorded)."""
    return service.subscription_of(session, principal.tenant_id)


@router.put("/subscription", response_model=SubscriptionOut, responses=problem_responses(*WRITE_PROBLEMS))
@idempotent
def put_subscription(body: SubscriptionPut, session: WriteSessionDep, principal: FinanceWriteDep, now: NowDep,
                     if_match: IfMatch = None) -> SubscriptionOut:  # fmt: skip
    """Record the subscription (a plan, when given, must be in the catalog). Audited as
    BILLING_SUBSCRIPTION_UPSERT; a live subscription's plan is the plan billed."""
    expected = expected_revision(body.expected_revision, if_match)
    return service.put_subscription(session, context=principal.audit_context, body=body, expected=expected,
                                    now=now)  # fmt: skip


@router.get("/summary", response_model=SummaryOut, responses=problem_responses(*READ_PROBLEMS, PeriodInvalid))
def get_summary(session: SessionDep, principal: FinanceReadDep, now: NowDep,
                period: Annotated[str | None, Query(description="YYYY-MM; default the current month.")] = None,
                ) -> SummaryOut:  # fmt: skip
    """The period's usage (the last published warehouse figures plus what the API witnessed since), the
    invoice it makes so far (lines and totals per currency) and the hard limit's state."""
    if period is not None and not PERIOD.match(period):
        raise PeriodInvalid(
            errors=[{"loc": ["query", "period"], "msg": "must match YYYY-MM", "type": "period"}]
        )
    return period_summary(session, tenant_id=principal.tenant_id, period=period or period_of(now), now=now)
