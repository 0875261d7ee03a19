"""The invoice drafts the billing marts will compute for the generated data, so Stripe can bill them.

The rules are the marts' (docs/DECISIONLOG.md, "Billing: usage and invoice drafts"), applied to what the
generator itself produced: usage from the settlements of each (tenant, period) chunk (verified runs and
arbitration cases in the plan's currency, settled volume in the settlements' currency), the plan a tenant
held for the longest part of each month from the Stripe subscription events (before its first event, its
configured plan, else free), and the figures of the dbt seeds `billing_plan_catalog` and
`billing_tenant_plans` (read, never copied). `stripe_invoices.py` bills each draft that has a line.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from settld.vocabulary import read_seed

from .kernel import LOCKED
from .tenants import period_epochs

CATALOG: dict[str, dict[str, str]] = {row["plan"]: row for row in read_seed("billing_plan_catalog")}
TENANT_PLANS: dict[str, dict[str, str]] = {row["tenant_id"]: row for row in read_seed("billing_tenant_plans")}
# The figures a tenant's row in billing_tenant_plans may override.
TERMS = (
    "subscription_cents",
    "included_verified_runs",
    "overage_milli_cents_per_run",
    "settled_volume_fee_bps",
    "arbitration_case_fee_cents",
)
ENDED_STATUSES = ("canceled", "cancelled", "incomplete_expired", "ended", "terminated")
SUBSCRIPTION_EVENT = "customer.subscription."


def plan_price(plan: str) -> int:
    """The plan's monthly subscription in cents, from the catalog seed."""
    return int(CATALOG[plan]["subscription_cents"])


@dataclass(frozen=True)
class Usage:
    """Billable usage of one tenant and month."""

    runs: int = 0  # verified runs: settlements resolved in the month
    cases: int = 0  # arbitration cases: resolved settlements with a dispute (open or closed)
    volume: int = 0  # settled volume in cents: released amounts > 0 of resolved settlements


def chunk_usage(columns: dict[str, np.ndarray], period: str) -> Usage:
    """Usage of one chunk's settlements (kernel.Settlements.columns), all resolved within its period."""
    start, end = period_epochs(period)
    resolved = columns["status"] != LOCKED
    at = columns["resolved_at"][resolved]
    if not ((at >= start) & (at < end)).all():
        raise AssertionError(
            f"a settlement of {period} resolves outside it: usage would move to another month"
        )
    released = columns["released"][resolved]
    return Usage(
        runs=int(resolved.sum()),
        cases=int((columns["dispute"][resolved] != 0).sum()),
        volume=int(released[released > 0].sum()),
    )


@dataclass(frozen=True)
class Plan:
    name: str
    source: str  # stripe, configured (seed billing_tenant_plans) or default (free)
    terms: dict[str, int]
    currency: str


def subscription_states(events: list[dict[str, Any]]) -> dict[str, list[tuple[int, str, str]]]:
    """Per tenant, its Stripe subscription states (valid_from, event id, plan) from subscription events:
    the plan named in the subscription's metadata, or free once the subscription has ended."""
    states: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for event in events:
        if not event["type"].startswith(SUBSCRIPTION_EVENT):
            continue
        obj = event["data"]["object"]
        plan = "free" if obj["status"] in ENDED_STATUSES else obj["metadata"].get("plan") or "free"
        states[obj["metadata"]["tenant_id"]].append((event["created"], event["id"], plan))
    return {tenant: sorted(rows) for tenant, rows in states.items()}


def month_plan(tenant_id: str, states: list[tuple[int, str, str]], period: str) -> Plan:
    """The plan that bills `period`: held for the longest part of it (ties: the plan held later)."""
    start, end = period_epochs(period)
    configured = TENANT_PLANS.get(tenant_id)
    first = states[0][0] if states else end
    segments = [
        (
            configured["plan"] if configured else "free",
            "configured" if configured else "default",
            start,
            first,
        )
    ]
    for (valid_from, _, plan), following in zip(states, [*states[1:], None], strict=True):
        valid_to = end if following is None else following[0]
        if valid_to > valid_from:  # a state that lasted no time was never in force
            segments.append((plan, "stripe", max(valid_from, start), min(valid_to, end)))
    held: dict[tuple[str, str], tuple[int, int]] = {}
    for plan, source, lo, hi in segments:
        if hi > lo:
            total, last = held.get((plan, source), (0, lo))
            held[(plan, source)] = (total + hi - lo, max(last, lo))
    (name, source), _ = min(held.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
    catalog = CATALOG[name]
    overrides = configured or {}
    terms = {term: int(overrides.get(term) or catalog[term]) for term in TERMS}
    return Plan(name, source, terms, catalog["currency"])


@dataclass(frozen=True)
class Line:
    code: str
    quantity: int
    amount: int  # cents
    description: str


def draft_lines(plan: Plan, usage: Usage, volume_currency: str) -> dict[str, list[Line]]:
    """The lines of one tenant's drafts for one month, per currency (only drafts with a line)."""
    terms = plan.terms
    lines: dict[str, list[Line]] = defaultdict(list)
    if terms["subscription_cents"] > 0:
        description = f"Settld {plan.name} plan, monthly subscription"
        lines[plan.currency].append(Line("SUBSCRIPTION_BASE", 1, terms["subscription_cents"], description))
    extra = usage.runs - terms["included_verified_runs"]
    if extra > 0:  # milli-cents to cents, rounded half-up
        amount = (extra * terms["overage_milli_cents_per_run"] + 500) // 1000
        description = "Verified runs beyond the plan's included runs"
        lines[plan.currency].append(Line("VERIFIED_RUN_OVERAGE", extra, amount, description))
    if usage.volume > 0:  # the fee is rounded down
        amount = usage.volume * terms["settled_volume_fee_bps"] // 10_000
        lines[volume_currency].append(
            Line("SETTLED_VOLUME_FEE", usage.volume, amount, "Fee on settled volume")
        )
    if usage.cases > 0:
        amount = usage.cases * terms["arbitration_case_fee_cents"]
        lines[plan.currency].append(Line("ARBITRATION_USAGE_FEE", usage.cases, amount, "Arbitration cases"))
    return dict(lines)
