"""Metering of the billable work the API creates, and the plan's hard limit (docs/DECISIONLOG.md,
"Billing plans in the API").

`meter_billable_work` runs inside the caller's write transaction. It takes the tenant's row lock (SELECT
... FOR UPDATE on Postgres; SQLite's write transactions are BEGIN IMMEDIATE, one writer at a time), so the
count and the write that follows it cannot interleave with another accept of the same tenant: two
concurrent accepts at the limit admit exactly one.

A period's usage is the last published warehouse figures (`billing_usage_published`, as of the run that
computed them) plus what the API witnessed after that as-of instant. The hard limit is on verified runs
per month; as issue 24 and the branches' interface say, any billable work the API creates is refused once
it would take the tenant past it: an arbitration case too (its `quantity` counts as the attempted work).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.audit.service import AuditContext, append_audit
from api.billing.catalog import TenantPlan, resolve_plan
from api.billing.models import NO_CURRENCY, BillingUsagePublished, BillingUsageWitnessed, UsageType
from api.billing.problems import PlanLimitExceeded
from api.core.transaction import after_commit, committing
from api.tenants.models import Tenant

METERED = (UsageType.verified_runs.value, UsageType.arbitration_cases.value)
REFUSAL_ACTION = "BILLING_PLAN_LIMIT_REFUSED"


def period_of(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m")


@dataclass(frozen=True)
class Enforcement:
    hard_limit_verified_runs_per_month: int | None  # None: the plan has no limit
    hard_limit_enforced: bool
    remaining_verified_runs: int | None
    would_block_next_run: bool


def published_usage(session: Session, *, tenant_id: str, period: str) -> tuple[dict[tuple[str, str], int],
                                                                                 datetime | None]:  # fmt: skip
    """{(usage_type, currency): quantity} of the last publish, and its as-of instant (None: never)."""
    rows = session.scalars(select(BillingUsagePublished).where(
        BillingUsagePublished.tenant_id == tenant_id, BillingUsagePublished.period == period)).all()  # fmt: skip
    as_of = max((row.as_of for row in rows), default=None)
    return {(row.usage_type, row.currency): row.quantity for row in rows}, as_of


def witnessed_usage(
    session: Session, *, tenant_id: str, period: str, after: datetime | None
) -> dict[str, int]:
    """{usage_type: quantity} the API witnessed in the period after `after` (all of it when None)."""
    query = (
        select(BillingUsageWitnessed.usage_type, func.sum(BillingUsageWitnessed.quantity))
        .where(BillingUsageWitnessed.tenant_id == tenant_id, BillingUsageWitnessed.period == period)
        .group_by(BillingUsageWitnessed.usage_type)
    )
    if after is not None:
        query = query.where(BillingUsageWitnessed.witnessed_at > after)
    return {usage_type: int(total) for usage_type, total in session.execute(query)}


def live_count(session: Session, *, tenant_id: str, period: str, usage_type: str) -> int:
    published, as_of = published_usage(session, tenant_id=tenant_id, period=period)
    witnessed = witnessed_usage(session, tenant_id=tenant_id, period=period, after=as_of)
    return published.get((usage_type, NO_CURRENCY), 0) + witnessed.get(usage_type, 0)


def enforcement(plan: TenantPlan, used_verified_runs: int) -> Enforcement:
    limit = plan.terms.hard_limit_verified_runs or None
    remaining = None if limit is None else max(0, limit - used_verified_runs)
    blocks = plan.hard_limit_enforced and remaining is not None and remaining < 1
    return Enforcement(limit, plan.hard_limit_enforced, remaining, blocks)


def _audit_refusal(session: Session, context: AuditContext, details: dict, now: datetime) -> None:
    """The refusal's audit row, written in its own transaction once the caller's has ended (it rolls back
    when the problem propagates; a caller that catches it and commits gets the row too)."""
    bind = session.get_bind()

    def write() -> None:
        with Session(bind=bind) as own, committing(own):
            append_audit(own, context=context, action=REFUSAL_ACTION, target_type="tenant",
                         target_id=context.tenant_id, details=details, at=now)  # fmt: skip

    after_commit(session, write, on_rollback=write)


def meter_billable_work(session: Session, *, tenant_id: str, usage_type: str, quantity: int, source_ref: str,
                        now: datetime, actor_key_id: str | None = None,
                        request_id: str | None = None) -> None:  # fmt: skip
    """Count the period's usage under the tenant's lock; refuse work that would take the verified runs
    beyond an enforced hard limit with 402 BILLING_PLAN_LIMIT_EXCEEDED (audited, nothing metered); else
    record the witnessed usage, once per (tenant_id, usage_type, source_ref)."""
    if usage_type not in METERED:
        raise ValueError(f"usage_type must be one of {METERED}, not {usage_type!r}")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise ValueError(f"quantity must be a non-negative integer, not {quantity!r}")
    session.execute(select(Tenant.tenant_id).where(Tenant.tenant_id == tenant_id).with_for_update())
    if session.get(BillingUsageWitnessed, (tenant_id, usage_type, source_ref)) is not None:
        return  # this work was metered already
    period = period_of(now)
    plan = resolve_plan(session, tenant_id)
    limit = plan.terms.hard_limit_verified_runs
    if plan.hard_limit_enforced and limit > 0:
        used = live_count(session, tenant_id=tenant_id, period=period, usage_type=UsageType.verified_runs)
        if used + quantity > limit:
            details = {"period": period, "plan": plan.terms.plan, "hard_limit_verified_runs_per_month": limit,
                       "used_verified_runs": used, "attempted_quantity": quantity,
                       "projected_verified_runs": used + quantity}  # fmt: skip
            context = AuditContext(tenant_id, actor_key_id, request_id)
            _audit_refusal(
                session, context, {**details, "usage_type": usage_type, "source_ref": source_ref}, now
            )
            raise PlanLimitExceeded(
                f"The {plan.terms.plan} plan allows {limit} verified runs in {period}; {used} are used.",
                **details,
            )
    session.add(BillingUsageWitnessed(tenant_id=tenant_id, usage_type=usage_type, source_ref=source_ref,
                                      period=period, quantity=quantity, witnessed_at=now))  # fmt: skip
    session.flush()
