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


class SchemaInvalid(Problem):
    status, code = 400, "SCHEMA_INVALID"
    title = "The billing request does not fit the plan catalog or its terms; `errors` names each field."


class PeriodInvalid(Problem):
    status, code, title = 400, "BILLING_PERIOD_INVALID", "period must match YYYY-MM."


class PlanNotPurchasable(Problem):
    status, code, title = 400, "BILLING_PLAN_NOT_PURCHASABLE", "The free plan needs no checkout."
    members = ("plan",)


class CustomerRequired(Problem):
    status, code = 400, "BILLING_CUSTOMER_REQUIRED"
    title = "The portal needs a provider customer: send `customer_id` or subscribe first."


class ProviderNotConfigured(Problem):
    status, code, title = 409, "BILLING_PROVIDER_NOT_CONFIGURED", "The plan has no provider price configured."
    members = ("plan",)


class ProviderUpstreamError(Problem):
    status, code, title = 502, "BILLING_PROVIDER_UPSTREAM_ERROR", "The billing provider failed or refused."
    members = ("category", "provider_status")


class ProviderCircuitOpen(Problem):
    status, code = 503, "BILLING_PROVIDER_CIRCUIT_OPEN"
    title = "The billing provider failed repeatedly; calls are paused for a cool-down (Retry-After)."
    members = ("retry_after_seconds",)
