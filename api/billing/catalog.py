"""The plan catalog and a tenant's plan: read from the dbt seeds the invoice drafts are billed from, so the
API and the warehouse cannot disagree on a price (docs/DECISIONLOG.md, "Billing plans in the API").

    billing_plan_catalog.csv   plan, subscription_cents, included_verified_runs, overage_milli_cents_per_run,
                               settled_volume_fee_bps, arbitration_case_fee_cents, hard_limit_verified_runs,
                               currency
    billing_tenant_plans.csv   the configured plan and overrides of the seed's tenants (as the warehouse)

A tenant's plan, as the reference resolves it: the plan of its subscription while that subscription is
live (not canceled, ended, ...), else its configured plan (PUT /ops/finance/billing/plan or the bootstrap;
a tenant the API never configured: its row of billing_tenant_plans, else free), with its overrides
replacing catalog terms. Its hard limit is enforced unless the tenant turned enforcement off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from api.billing.models import BillingSubscription
from api.tenants.models import Tenant
from settld.vocabulary import read_seed

TERMS = (
    "subscription_cents", "included_verified_runs", "overage_milli_cents_per_run", "settled_volume_fee_bps",
    "arbitration_case_fee_cents", "hard_limit_verified_runs",
)  # fmt: skip
MAX_BPS = 10_000
DEFAULT_PLAN = "free"
ENDED_STATUSES = frozenset({"canceled", "cancelled", "incomplete_expired", "ended", "terminated"})


@dataclass(frozen=True)
class PlanTerms:
    plan: str
    currency: str
    subscription_cents: int
    included_verified_runs: int
    overage_milli_cents_per_run: int
    settled_volume_fee_bps: int
    arbitration_case_fee_cents: int
    hard_limit_verified_runs: int  # 0: no limit


@dataclass(frozen=True)
class TenantPlan:
    terms: PlanTerms
    plan_source: str  # subscription | configured | seed | default
    overrides: dict[str, int]
    hard_limit_enforced: bool


@cache
def catalog() -> dict[str, PlanTerms]:
    """The seed's plans, in its order (free, builder, growth, enterprise)."""
    return {
        row["plan"]: PlanTerms(plan=row["plan"], currency=row["currency"], **{t: int(row[t]) for t in TERMS})
        for row in read_seed("billing_plan_catalog")
    }


@cache
def seed_tenant_plans() -> dict[str, tuple[str, dict[str, int]]]:
    """billing_tenant_plans: each seeded tenant's configured plan and overrides (empty cells: none)."""
    return {
        row["tenant_id"]: (row["plan"], {term: int(row[term]) for term in TERMS if row.get(term)})
        for row in read_seed("billing_tenant_plans")
    }


def override_errors(overrides: Any) -> list[dict[str, Any]]:
    """Each bad override as a problem's error entry {loc, msg, type} (empty: all good)."""
    if not isinstance(overrides, dict):
        return [{"loc": ["body", "plan_overrides"], "msg": "must be an object", "type": "object_type"}]
    errors = []
    for term, value in overrides.items():
        loc = ["body", "plan_overrides", term]
        if term not in TERMS:
            errors.append(
                {"loc": loc, "msg": f"not a plan term (one of {', '.join(TERMS)})", "type": "unknown_term"}
            )
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors.append({"loc": loc, "msg": "must be a non-negative integer", "type": "int_non_negative"})
        elif term == "settled_volume_fee_bps" and value > MAX_BPS:
            errors.append({"loc": loc, "msg": f"must be at most {MAX_BPS}", "type": "bps_range"})
    return errors


def apply_overrides(terms: PlanTerms, overrides: dict[str, int]) -> PlanTerms:
    return replace(terms, **overrides)


def configured_plan(tenant: Tenant | None) -> tuple[str, dict[str, int], str]:
    """(plan, overrides, source) the tenant is configured with, before any subscription."""
    if tenant is not None and tenant.billing_plan is not None:
        overrides = json.loads(tenant.billing_plan_overrides) if tenant.billing_plan_overrides else {}
        return tenant.billing_plan, overrides, "configured"
    if tenant is not None and tenant.tenant_id in seed_tenant_plans():
        plan, overrides = seed_tenant_plans()[tenant.tenant_id]
        return plan, overrides, "seed"
    return DEFAULT_PLAN, {}, "default"


def live_subscription_plan(subscription: BillingSubscription | None) -> str | None:
    if subscription is None or subscription.plan not in catalog():
        return None
    return None if (subscription.status or "") in ENDED_STATUSES else subscription.plan


def resolve_plan(session: Session, tenant_id: str) -> TenantPlan:
    tenant = session.get(Tenant, tenant_id)
    plan, overrides, source = configured_plan(tenant)
    subscribed = live_subscription_plan(session.get(BillingSubscription, tenant_id))
    if subscribed is not None:
        plan, source = subscribed, "subscription"
    terms = apply_overrides(catalog().get(plan, catalog()[DEFAULT_PLAN]), overrides)
    enforced = tenant is None or tenant.billing_hard_limit_enforced is not False
    return TenantPlan(terms=terms, plan_source=source, overrides=overrides, hard_limit_enforced=enforced)
