"""The problem code of the Stripe webhook (one class: api/core/errors.py)."""

from __future__ import annotations

from api.core.errors import Problem


class DeliveryRejected(Problem):
    status, code = 400, "WEBHOOK_REJECTED"
    title = "The delivery was recorded and refused; `reason` is its reason key."
    members = ("reason", "delivery_id")


class PlanLimitExceeded(Problem):
    status, code = 402, "BILLING_PLAN_LIMIT_EXCEEDED"
    title = "The tenant's plan has a hard limit on verified runs per month, and this work would exceed it."
    members = ("period", "plan", "hard_limit_verified_runs_per_month", "used_verified_runs",
               "attempted_quantity", "projected_verified_runs")  # fmt: skip
