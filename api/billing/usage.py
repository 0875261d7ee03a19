"""Usage the warehouse published (marts.fct_billing_usage) and the live summary of a tenant's period.

`publish_usage` replaces the published figures with the mart's (plain function; the pipeline's publish
asset calls it), stamped with the run's as-of. `period_summary` is GET /ops/finance/billing/summary: the
published figures plus the usage the API witnessed after their as-of (api/billing/limits.py), priced by
api/billing/estimate.py. Which plan prices it (docs/DECISIONLOG.md, "Billing plans in the API"): a period
that has ended, or whose invoice is finalised, on the plan the warehouse billed it on, when published;
the current period (and any period the warehouse has not published) on the tenant's plan as the API
resolves it now, the plan its hard limit is enforced on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.billing.catalog import PlanTerms, resolve_plan
from api.billing.estimate import Usage, estimate_lines, totals_per_currency
from api.billing.limits import enforcement, period_of, published_usage, witnessed_usage
from api.billing.models import NO_CURRENCY, BillingUsagePublished, UsageType
from api.billing.schemas import SummaryOut
from api.core.migrate import database_at_head
from api.core.published_rows import RowShape, typed_row, utc_instant
from api.invoices.models import Invoice
from api.invoices.states import InvoiceStatus
from settld.core import canonical_json, parse_period

TERM_COLUMNS = ("subscription_cents", "included_verified_runs", "overage_milli_cents_per_run",
                "settled_volume_fee_bps", "arbitration_case_fee_cents", "hard_limit_verified_runs")  # fmt: skip
USAGE_ROW = RowShape(
    required_text=("tenant_id", "period", "usage_type", "currency", "plan", "plan_currency"),
    required_int=("quantity", *TERM_COLUMNS),
)


def publish_usage(database_url: str, rows: Iterable[Mapping[str, Any]], *, as_of: datetime) -> int:
    """Replace the published usage with the mart's rows, in one transaction; the number of rows."""
    as_of = utc_instant(as_of)
    typed = []
    for index, raw in enumerate(rows):
        row = typed_row(raw, USAGE_ROW, index, what="usage row")
        parse_period(row["period"])
        if row["usage_type"] not in set(UsageType):
            raise ValueError(
                f"usage row {index}: usage_type {row['usage_type']!r} is not one of {list(UsageType)}"
            )
        terms = {"plan": row["plan"], "currency": row["plan_currency"], **{t: row[t] for t in TERM_COLUMNS}}
        typed.append(BillingUsagePublished(
            tenant_id=row["tenant_id"], period=row["period"], usage_type=row["usage_type"],
            currency=row["currency"], quantity=row["quantity"], plan=row["plan"],
            plan_terms=canonical_json(terms), as_of=as_of, published_at=as_of))  # fmt: skip
    with database_at_head(database_url) as database, database.transaction() as session:
        session.execute(delete(BillingUsagePublished))
        session.add_all(typed)
    return len(typed)


def _billed_terms(session: Session, tenant_id: str, period: str) -> PlanTerms | None:
    row = session.scalars(select(BillingUsagePublished).where(
        BillingUsagePublished.tenant_id == tenant_id, BillingUsagePublished.period == period).limit(1)).first()  # fmt: skip
    return None if row is None else PlanTerms(**json.loads(row.plan_terms))


def _finalized(session: Session, tenant_id: str, period: str) -> bool:
    return session.scalar(select(Invoice.period).where(
        Invoice.tenant_id == tenant_id, Invoice.period == period,
        Invoice.status == InvoiceStatus.finalized.value).limit(1)) is not None  # fmt: skip


def period_summary(session: Session, *, tenant_id: str, period: str, now: datetime) -> SummaryOut:
    published, as_of = published_usage(session, tenant_id=tenant_id, period=period)
    witnessed = witnessed_usage(session, tenant_id=tenant_id, period=period, after=as_of)
    runs_seen = witnessed.get(UsageType.verified_runs, 0)
    cases_seen = witnessed.get(UsageType.arbitration_cases, 0)
    usage = Usage(
        verified_runs=published.get((UsageType.verified_runs, NO_CURRENCY), 0) + runs_seen,
        arbitration_cases=published.get((UsageType.arbitration_cases, NO_CURRENCY), 0) + cases_seen,
        settled_volume={currency: cents for (kind, currency), cents in published.items()
                        if kind == UsageType.settled_volume and cents > 0},
    )  # fmt: skip
    resolved = resolve_plan(session, tenant_id)
    terms, source = resolved.terms, resolved.plan_source
    billed = _billed_terms(session, tenant_id, period)
    if billed is not None and (period < period_of(now) or _finalized(session, tenant_id, period)):
        terms, source = billed, "warehouse"
    lines = estimate_lines(terms, usage)
    limit = enforcement(resolved, usage.verified_runs)
    return SummaryOut.model_validate({
        "tenant_id": tenant_id, "period": period, "plan": terms.plan, "plan_source": source,
        "usage": {"verified_runs": usage.verified_runs, "arbitration_cases": usage.arbitration_cases,
                  "settled_volume": [{"currency": c, "amount_cents": v} for c, v in sorted(usage.settled_volume.items())],
                  "published_as_of": as_of, "witnessed_verified_runs": runs_seen,
                  "witnessed_arbitration_cases": cases_seen},
        "estimate": {"lines": [vars(line) for line in lines],
                     "totals": [{"currency": c, "amount_cents": t} for c, t in totals_per_currency(lines).items()]},
        "enforcement": vars(limit),
    })  # fmt: skip
