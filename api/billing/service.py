"""A tenant's billing plan and subscription: read, set (audited, revisioned, If-Match), and the
subscription a Stripe `customer.subscription.*` event reports (docs/DECISIONLOG.md, "Billing plans in
the API"). Runs inside the request's transaction; the caller commits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from api.audit.service import AuditContext, append_audit
from api.billing import fields
from api.billing.catalog import catalog, configured_plan, override_errors, resolve_plan
from api.billing.models import BillingSubscription
from api.billing.plans import subscription_facts
from api.billing.problems import SchemaInvalid
from api.billing.schemas import PlanOut, PlanPut, SubscriptionOut, SubscriptionPut
from api.core.revisions import check_revision
from api.tenants.models import Tenant
from api.tenants.service import get_tenant
from settld.core import canonical_json


def _lock_tenant(session: Session, tenant_id: str) -> Tenant:
    tenant = get_tenant(session, tenant_id)
    session.refresh(tenant, with_for_update=True)
    return tenant


def plan_out(session: Session, tenant_id: str) -> PlanOut:
    tenant = get_tenant(session, tenant_id)
    resolved = resolve_plan(session, tenant_id)
    configured, _, _ = configured_plan(tenant)
    return PlanOut(tenant_id=tenant_id, plan=resolved.terms.plan, plan_source=resolved.plan_source,
                   configured_plan=configured, plan_overrides=resolved.overrides,
                   hard_limit_enforced=resolved.hard_limit_enforced,
                   terms=resolved.terms, revision=tenant.revision)  # fmt: skip


def _plan_errors(plan: str | None, loc: list[str]) -> list[dict[str, Any]]:
    if plan is None or plan in catalog():
        return []
    return [
        {"loc": loc, "msg": f"not a plan of the catalog ({', '.join(catalog())})", "type": "plan_unknown"}
    ]


def put_plan(session: Session, *, context: AuditContext, body: PlanPut, expected: int | None,
             now: datetime) -> PlanOut:  # fmt: skip
    errors = _plan_errors(body.plan, ["body", "plan"]) + override_errors(body.plan_overrides)
    if errors:
        raise SchemaInvalid("The plan or its overrides do not fit the catalog.", errors=errors)
    tenant = _lock_tenant(session, context.tenant_id)
    check_revision(tenant.revision, expected, "billing plan")
    overrides = canonical_json(body.plan_overrides) if body.plan_overrides else None
    before = (tenant.billing_plan, tenant.billing_plan_overrides, tenant.billing_hard_limit_enforced)
    if before != (body.plan, overrides, body.hard_limit_enforced):
        tenant.billing_plan, tenant.billing_plan_overrides = body.plan, overrides
        tenant.billing_hard_limit_enforced, tenant.updated_at = body.hard_limit_enforced, now
        tenant.revision += 1
        append_audit(session, context=context, action="BILLING_PLAN_UPSERT", target_type="tenant",
                     target_id=context.tenant_id, at=now,
                     details={"revision": tenant.revision, "plan": body.plan, "plan_overrides": body.plan_overrides,
                              "hard_limit_enforced": body.hard_limit_enforced,
                              "previous_plan": before[0]})  # fmt: skip
    return plan_out(session, context.tenant_id)


def subscription_out(subscription: BillingSubscription) -> SubscriptionOut:
    return SubscriptionOut.model_validate(subscription, from_attributes=True)


SUBSCRIPTION_FIELDS = ("provider", "customer_id", "subscription_id", "price_id", "status", "plan",
                       "current_period_start", "current_period_end", "cancel_at_period_end")  # fmt: skip


def _write_subscription(session: Session, tenant_id: str, values: dict[str, Any], now: datetime,
                        expected: int | None = None) -> tuple[BillingSubscription, bool]:  # fmt: skip
    subscription = session.get(BillingSubscription, tenant_id, with_for_update=True)
    if subscription is None:
        check_revision(0, expected, "subscription")
        subscription = BillingSubscription(tenant_id=tenant_id, revision=0, cancel_at_period_end=False)
        session.add(subscription)
    else:
        check_revision(subscription.revision, expected, "subscription")
    changed = any(getattr(subscription, name) != value for name, value in values.items())
    if changed or subscription.revision == 0:
        for name, value in values.items():
            setattr(subscription, name, value)
        subscription.revision, subscription.updated_at = subscription.revision + 1, now
        session.flush()
    return subscription, changed


def put_subscription(session: Session, *, context: AuditContext, body: SubscriptionPut, expected: int | None,
                     now: datetime) -> SubscriptionOut:  # fmt: skip
    if errors := _plan_errors(body.plan, ["body", "plan"]):
        raise SchemaInvalid("The subscription's plan is not in the catalog.", errors=errors)
    get_tenant(session, context.tenant_id)
    values = body.model_dump(include=set(SUBSCRIPTION_FIELDS))
    values["status"] = values["status"].lower() if values["status"] else None
    subscription, changed = _write_subscription(session, context.tenant_id, values, now, expected)
    if changed:
        append_audit(session, context=context, action="BILLING_SUBSCRIPTION_UPSERT", target_type="tenant",
                     target_id=context.tenant_id, at=now,
                     details={"revision": subscription.revision, **body.model_dump(mode="json",
                              include=set(SUBSCRIPTION_FIELDS))})  # fmt: skip
    return subscription_out(subscription)


def _epoch(value: Any) -> datetime | None:
    """Stripe's epoch seconds (milliseconds when > 1e12) as UTC; anything else, or out of range, None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000 if value > 1e12 else value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def apply_subscription_event(
    session: Session, *, tenant_id: str, event: dict[str, Any], now: datetime
) -> bool:
    """A stored `customer.subscription.*` event of the tenant becomes its subscription (so its plan), unless
    a newer event already did; audited as BILLING_SUBSCRIPTION_UPSERT by the provider. Whether it applied."""
    status, plan = subscription_facts(event)
    if (status is None and plan is None) or session.get(Tenant, tenant_id) is None:
        return False  # not a subscription event, or a tenant the API does not know (kept as an event only)
    current = session.get(BillingSubscription, tenant_id)
    if current is not None and (current.last_event_created or 0) > event["created"]:
        return False  # an older event arrived late: the newer state stands
    obj = event["data"]["object"]
    items = obj["items"].get("data") if isinstance(obj.get("items"), dict) else None
    first = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}
    price = first["price"] if isinstance(first.get("price"), dict) else {}
    values = {"provider": "stripe", "customer_id": fields.text(obj.get("customer")),
              "subscription_id": fields.text(obj.get("id")), "price_id": fields.text(price.get("id")),
              "status": status, "plan": plan if plan in catalog() else None,
              "current_period_start": _epoch(obj.get("current_period_start")),
              "current_period_end": _epoch(obj.get("current_period_end")),
              "cancel_at_period_end": bool(obj.get("cancel_at_period_end")),
              "last_event_id": event["id"], "last_event_created": event["created"]}  # fmt: skip
    subscription, _ = _write_subscription(session, tenant_id, values, now)
    append_audit(session, context=AuditContext(tenant_id, None, None), action="BILLING_SUBSCRIPTION_UPSERT",
                 target_type="tenant", target_id=tenant_id, at=now,
                 details={"revision": subscription.revision, "source": f"stripe:{event['id']}",
                          "event_type": event["type"], "status": status, "plan": values["plan"]})  # fmt: skip
    return True


def subscription_of(session: Session, tenant_id: str) -> SubscriptionOut | None:
    get_tenant(session, tenant_id)
    subscription = session.get(BillingSubscription, tenant_id)
    return None if subscription is None else subscription_out(subscription)
