"""Checkout and customer-portal sessions (the reference's BillingStripeCheckoutSession.v1 and
BillingStripePortalSession.v1), live through api/billing/provider.py or, without a secret key, stubs
whose ids and URLs are derived from the request (deterministic: the same request, the same stub)."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

import stripe
from sqlalchemy.orm import Session

from api.audit.service import AuditContext, append_audit
from api.billing.catalog import catalog
from api.billing.models import BillingSubscription
from api.billing.problems import CustomerRequired, PlanNotPurchasable, ProviderNotConfigured, SchemaInvalid
from api.billing.provider import BillingProvider, no_such_customer
from api.billing.schemas import CheckoutCreate, CheckoutOut, PortalCreate, PortalOut
from settld.core import canonical_hash

FREE_PLAN = "free"
SESSION_LIFETIME = timedelta(minutes=30)


def _stub_url(provider: BillingProvider, **query: str | None) -> str:
    return f"{provider.settings.billing_stub_base_url}?{urlencode({k: v for k, v in query.items() if v})}"


def _customer(session: Session, tenant_id: str, given: str | None) -> str | None:
    subscription = session.get(BillingSubscription, tenant_id)
    return given or (subscription.customer_id if subscription else None)


def create_checkout(session: Session, *, provider: BillingProvider, context: AuditContext, body: CheckoutCreate,
                    now: datetime) -> CheckoutOut:  # fmt: skip
    tenant_id = context.tenant_id
    if body.plan not in catalog():
        raise SchemaInvalid("The plan is not in the catalog.",
                            errors=[{"loc": ["body", "plan"], "msg": "not a plan of the catalog", "type": "plan_unknown"}])  # fmt: skip
    if body.plan == FREE_PLAN:
        raise PlanNotPurchasable("The free plan needs no checkout.", plan=body.plan)
    price_id = provider.settings.stripe_prices.get(body.plan)
    customer_id = _customer(session, tenant_id, body.customer_id)
    if provider.live:
        if not price_id:
            raise ProviderNotConfigured(
                f"No Stripe price is configured for the {body.plan} plan.", plan=body.plan
            )
        params = {"mode": "subscription", "success_url": body.success_url, "cancel_url": body.cancel_url,
                  "line_items": [{"price": price_id, "quantity": 1}],
                  "metadata": {"tenant_id": tenant_id, "plan": body.plan},
                  "subscription_data": {"metadata": {"tenant_id": tenant_id, "plan": body.plan}}}  # fmt: skip
        key = "settld-checkout-" + canonical_hash([tenant_id, params, customer_id])[:40]

        def create(client: stripe.StripeClient) -> stripe.checkout.Session:
            try:
                with_customer = {**params, "customer": customer_id} if customer_id else params
                return client.v1.checkout.sessions.create(with_customer, {"idempotency_key": key})
            except stripe.InvalidRequestError as error:
                if not (customer_id and no_such_customer(error)):
                    raise
                return client.v1.checkout.sessions.create(
                    params, {"idempotency_key": key + "-nc"}
                )  # once, without

        created = provider.call(create)
        session_id, url, customer_id, mode = created.id, created.url, created.customer, "live"
    else:
        session_id = "cs_test_stub_" + canonical_hash([tenant_id, body.model_dump(), customer_id])[:24]
        url = _stub_url(
            provider, session_id=session_id, tenant=tenant_id, mode="subscription", plan=body.plan
        )
        mode = "stub"
    out = CheckoutOut(provider="stripe", mode=mode, session_id=session_id, session_url=url, plan=body.plan,
                      price_id=price_id, customer_id=customer_id, created_at=now,
                      expires_at=now + SESSION_LIFETIME)  # fmt: skip
    append_audit(session, context=context, action="BILLING_CHECKOUT_SESSION_CREATE", target_type="tenant",
                 target_id=tenant_id, at=now, details=out.model_dump(mode="json"))  # fmt: skip
    return out


def create_portal(session: Session, *, provider: BillingProvider, context: AuditContext, body: PortalCreate,
                  now: datetime) -> PortalOut:  # fmt: skip
    tenant_id = context.tenant_id
    customer_id = _customer(session, tenant_id, body.customer_id)
    if customer_id is None:
        raise CustomerRequired("No customer: send customer_id, or subscribe first.")
    if provider.live:
        params = {"customer": customer_id, **({"return_url": body.return_url} if body.return_url else {})}
        key = "settld-portal-" + canonical_hash([tenant_id, params])[:40]
        created = provider.call(
            lambda client: client.v1.billing_portal.sessions.create(params, {"idempotency_key": key})
        )
        session_id, url, mode = created.id, created.url, "live"
    else:
        session_id = "bps_stub_" + canonical_hash([tenant_id, body.model_dump(), customer_id])[:24]
        url = _stub_url(
            provider, session_id=session_id, tenant=tenant_id, mode="portal", customer=customer_id
        )
        mode = "stub"
    out = PortalOut(provider="stripe", mode=mode, session_id=session_id, session_url=url, customer_id=customer_id,
                    created_at=now)  # fmt: skip
    append_audit(session, context=context, action="BILLING_PORTAL_SESSION_CREATE", target_type="tenant",
                 target_id=tenant_id, at=now, details=out.model_dump(mode="json"))  # fmt: skip
    return out
