"""HTTP layer of checkout and the customer portal (finance_write; idempotent, 201): through the official
stripe SDK when a secret key is configured, stubs without one (api/billing/checkout.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.billing import checkout
from api.billing.problems import (
    CustomerRequired,
    PlanNotPurchasable,
    ProviderCircuitOpen,
    ProviderNotConfigured,
    ProviderUpstreamError,
    SchemaInvalid,
)
from api.billing.provider import BillingProvider
from api.billing.schemas import CheckoutCreate, CheckoutOut, PortalCreate, PortalOut
from api.core.dependencies import NowDep, WriteSessionDep
from api.core.errors import problem_responses
from api.idempotency.dependencies import idempotent
from api.idempotency.problems import IDEMPOTENCY_PROBLEMS
from api.tenants.dependencies import FinanceWriteDep
from api.tenants.problems import AUTH_PROBLEMS

router = APIRouter(prefix="/ops/finance/billing/providers/stripe", tags=["billing"])
UPSTREAM_PROBLEMS = (*AUTH_PROBLEMS, *IDEMPOTENCY_PROBLEMS, ProviderUpstreamError, ProviderCircuitOpen)


def provider_of(request: Request) -> BillingProvider:
    """The app's one provider (its SDK client and its circuit breaker), made on first use."""
    state = request.app.state
    if getattr(state, "billing_provider", None) is None:
        state.billing_provider = BillingProvider(state.settings)
    return state.billing_provider


@router.post("/checkout", status_code=201, response_model=CheckoutOut,
             responses=problem_responses(*UPSTREAM_PROBLEMS, SchemaInvalid, PlanNotPurchasable, ProviderNotConfigured))  # fmt: skip
@idempotent(status_code=201)
def post_checkout(request: Request, body: CheckoutCreate, session: WriteSessionDep, principal: FinanceWriteDep,
                  now: NowDep) -> CheckoutOut:  # fmt: skip
    """A Checkout session for a paid plan (subscription mode, the plan's price, metadata tenant and plan):
    the free plan is 400, a plan without a configured price 409; without a secret key a stub session."""
    return checkout.create_checkout(session, provider=provider_of(request), context=principal.audit_context,
                                    body=body, now=now)  # fmt: skip


@router.post("/portal", status_code=201, response_model=PortalOut,
             responses=problem_responses(*UPSTREAM_PROBLEMS, CustomerRequired))  # fmt: skip
@idempotent(status_code=201)
def post_portal(request: Request, body: PortalCreate, session: WriteSessionDep, principal: FinanceWriteDep,
                now: NowDep) -> PortalOut:  # fmt: skip
    """A customer-portal session for the tenant's customer (the body's, else its subscription's)."""
    return checkout.create_portal(session, provider=provider_of(request), context=principal.audit_context,
                                  body=body, now=now)  # fmt: skip
