"""Request and response models of the billing plan, subscription, summary and provider routes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from api.billing.catalog import PlanTerms
from api.billing.estimate import Line
from api.core.schemas import RequestModel


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the instant is outside the years a UTC timestamp can hold") from None


UtcDateTime = Annotated[AwareDatetime, AfterValidator(_utc)]


class PlanPut(RequestModel):
    plan: str = Field(max_length=64, description="A plan of the catalog (seed billing_plan_catalog).")
    plan_overrides: dict[str, Any] = Field(
        default_factory=dict, description="Plan terms replacing the catalog's."
    )
    hard_limit_enforced: bool = True
    expected_revision: int | None = Field(default=None, ge=0, description="Alternative to If-Match.")


class PlanOut(BaseModel):
    tenant_id: str
    plan: str  # the plan billed now (a live subscription's plan beats the configured one)
    plan_source: str  # subscription | configured | seed | default
    configured_plan: str
    plan_overrides: dict[str, int]
    hard_limit_enforced: bool
    terms: PlanTerms  # the catalog's, with the tenant's overrides
    revision: int


class SubscriptionPut(RequestModel):
    provider: str = Field(default="stripe", pattern=r"^[a-z_]{1,32}$")
    customer_id: str | None = Field(default=None, max_length=255)
    subscription_id: str | None = Field(default=None, max_length=255)
    price_id: str | None = Field(default=None, max_length=255)
    status: str | None = Field(default=None, max_length=64)
    plan: str | None = Field(default=None, max_length=64, description="A catalog plan, or null.")
    current_period_start: UtcDateTime | None = None
    current_period_end: UtcDateTime | None = None
    cancel_at_period_end: bool = False
    expected_revision: int | None = Field(default=None, ge=0, description="Alternative to If-Match.")


class SubscriptionOut(BaseModel):
    tenant_id: str
    provider: str
    customer_id: str | None
    subscription_id: str | None
    price_id: str | None
    status: str | None
    plan: str | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    last_event_id: str | None
    revision: int
    updated_at: datetime


class VolumeOut(BaseModel):
    currency: str
    amount_cents: int


class UsageOut(BaseModel):
    verified_runs: int
    arbitration_cases: int
    settled_volume: list[VolumeOut]  # one entry per currency: never summed across currencies
    published_as_of: datetime | None  # the warehouse figures' as-of (null: none published yet)
    witnessed_verified_runs: int  # counted by the API on top of them
    witnessed_arbitration_cases: int


class TotalOut(BaseModel):
    currency: str
    amount_cents: int


class EstimateOut(BaseModel):
    lines: list[Line]  # the invoice draft's lines, computed live
    totals: list[TotalOut]  # per currency


class EnforcementOut(BaseModel):
    hard_limit_verified_runs_per_month: int | None
    hard_limit_enforced: bool
    remaining_verified_runs: int | None
    would_block_next_run: bool


class SummaryOut(BaseModel):
    tenant_id: str
    period: str
    plan: str
    plan_source: str  # warehouse: the plan the period was billed on; else the API's resolved plan
    usage: UsageOut
    estimate: EstimateOut
    enforcement: EnforcementOut


class CheckoutCreate(RequestModel):
    plan: str = Field(max_length=64, description="A paid plan of the catalog.")
    success_url: str = Field(min_length=1, max_length=2048)
    cancel_url: str = Field(min_length=1, max_length=2048)
    customer_id: str | None = Field(default=None, max_length=255, description="Default: the subscription's.")


class CheckoutOut(BaseModel):
    """BillingStripeCheckoutSession.v1."""

    provider: str
    mode: str  # live | stub
    session_id: str
    session_url: str
    plan: str
    price_id: str | None
    customer_id: str | None
    created_at: datetime
    expires_at: datetime  # 30 minutes after created_at


class PortalCreate(RequestModel):
    return_url: str | None = Field(default=None, max_length=2048)
    customer_id: str | None = Field(default=None, max_length=255, description="Default: the subscription's.")


class PortalOut(BaseModel):
    """BillingStripePortalSession.v1."""

    provider: str
    mode: str  # live | stub
    session_id: str
    session_url: str
    customer_id: str
    created_at: datetime
