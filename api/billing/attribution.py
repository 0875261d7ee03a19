"""Whose a Stripe event is: a tenant's, the platform's, or nobody's yet (parked, never refused).

The rules, in order (the webhook, the pull, replays and landed files all ask here):
1. `metadata.tenant_id` on the event's object, or on its customer when expanded: that tenant;
2. an account-level object (payouts, the balance and its transactions carried by `payout.*` and
   `balance.*`): the platform's, no tenant;
3. the object's customer (the object itself for a customer) mapped to a tenant (stripe_customer_tenants);
4. a linked object already stored with a tenant or a mapped customer: the invoice of a charge, payment
   intent or invoice payment, the payment intent or charge of an invoice payment or charge;
5. otherwise `unattributed`: stored (the delivery is answered 2xx, so Stripe does not retry for days) and
   attributed as soon as a link arrives (`attribute_parked`, after every event that names a tenant).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.billing import fields
from api.billing.models import Attribution, StripeCustomerTenant, StripeEvent, StripeObject
from api.billing.objects import store_event_object

ACCOUNT_LEVEL_OBJECTS = ("payout", "balance", "balance_transaction")
ACCOUNT_LEVEL_PREFIXES = ("payout.", "balance.")
# Links from an object to others that know its customer: (field, object type stored under it).
LINKS = (("invoice", "invoice"), ("payment_intent", "payment_intent"), ("charge", "charge"))


@dataclass(frozen=True)
class Attributed:
    attribution: str  # Attribution
    tenant_id: str | None
    customer_id: str | None  # the customer the event is about, directly or through a link


def _customer_tenant(session: Session, customer_id: str | None) -> str | None:
    mapping = session.get(StripeCustomerTenant, customer_id) if customer_id else None
    return mapping.tenant_id if mapping is not None else None


def _linked_ids(obj: dict[str, Any]) -> list[tuple[str, str]]:
    links = [(kind, fields.reference_id(obj.get(name))) for name, kind in LINKS]
    payment = obj.get("payment")  # an invoice payment: {type, payment_intent | charge}
    if isinstance(payment, dict):
        links += [(kind, fields.reference_id(payment.get(name))) for name, kind in LINKS[1:]]
    return [(kind, object_id) for kind, object_id in links if object_id]


def direct_customer(obj: dict[str, Any]) -> str | None:
    return fields.reference_id(obj.get("id") if obj.get("object") == "customer" else obj.get("customer"))


def related_reference(event: dict[str, Any]) -> tuple[str, str] | None:
    """A v2 notification's related object (api/billing/notifications.py), as (object type, id)."""
    related = event.get("related_object")
    if not isinstance(related, dict):
        return None
    kind, object_id = fields.text(related.get("type")), fields.text(related.get("id"))
    return (kind.rsplit(".", 1)[-1], object_id) if kind and object_id else None


def resolve(session: Session, event: dict[str, Any]) -> Attributed:
    obj = event["data"]["object"]
    related = related_reference(event)
    customer_id = direct_customer(obj) or (related[1] if related and related[0] == "customer" else None)
    tenant = fields.metadata_tenant(obj) or fields.metadata_tenant(obj.get("customer"))
    if tenant:
        return Attributed(Attribution.tenant, tenant, customer_id)
    if obj.get("object") in ACCOUNT_LEVEL_OBJECTS or event["type"].startswith(ACCOUNT_LEVEL_PREFIXES):
        return Attributed(Attribution.platform, None, customer_id)
    tenant = _customer_tenant(session, customer_id)
    if tenant:
        return Attributed(Attribution.tenant, tenant, customer_id)
    for kind, object_id in [*_linked_ids(obj), *([related] if related and related[0] != "customer" else [])]:
        linked = session.get(StripeObject, (kind, object_id))
        if linked is None:
            continue
        customer_id = customer_id or linked.customer_id
        tenant = linked.tenant_id or _customer_tenant(session, linked.customer_id)
        if tenant:
            return Attributed(Attribution.tenant, tenant, customer_id)
    return Attributed(Attribution.unattributed, None, customer_id)


def learn_customer(session: Session, event: dict[str, Any], *, tenant_id: str, now: datetime) -> bool:
    """Remember customer -> tenant when an event's own metadata names the tenant (a customer object, or an
    object of that customer), so the customer's later events without metadata (invoices, charges) resolve.
    An existing mapping is never overwritten by an event: changing it is an operator's decision.
    Returns whether a mapping was added."""
    obj = event["data"]["object"]
    if fields.metadata_tenant(obj) != tenant_id:
        return False
    customer_id = direct_customer(obj)
    if customer_id and session.get(StripeCustomerTenant, customer_id) is None:
        session.add(StripeCustomerTenant(customer_id=customer_id, tenant_id=tenant_id, created_at=now))
        session.flush()
        return True
    return False


def attribute_parked(session: Session, *, now: datetime) -> int:
    """Attribute every parked event whose tenant is now known (a customer mapped, a linked object
    stored); its object is stored again under that tenant. Returns how many were attributed. Repeats
    until nothing changes, since an attributed invoice can name the tenant of a parked payment."""
    attributed = 0
    while True:
        changed = 0
        parked = session.scalars(
            select(StripeEvent).where(StripeEvent.attribution == Attribution.unattributed)
            .order_by(StripeEvent.created, StripeEvent.event_id)
        ).all()  # fmt: skip
        for stored in parked:
            event = _stored_event(stored)
            if event is None:
                continue
            found = resolve(session, event)
            if found.attribution == Attribution.unattributed:
                continue
            stored.attribution, stored.tenant_id = found.attribution, found.tenant_id
            stored.customer_id = stored.customer_id or found.customer_id
            if found.tenant_id:
                learn_customer(session, event, tenant_id=found.tenant_id, now=now)
            store_event_object(session, event, tenant_id=found.tenant_id, now=now)
            changed += 1
        session.flush()
        attributed += changed
        if not changed:
            return attributed


def _stored_event(stored: StripeEvent) -> dict[str, Any] | None:
    try:
        event = json.loads(stored.payload)
    except ValueError:
        return None
    data = event.get("data") if isinstance(event, dict) else None
    return event if isinstance(data, dict) and isinstance(data.get("object"), dict) else None
