"""Storing an accepted Stripe event once per event id, whichever path brought it (webhook, pull, replay,
landing), with whose it is (api/billing/attribution.py) and the facts SQL reads without parsing JSON:
its API version, its customer, a subscription's status and plan (api/billing/plans.py). A tenant's
subscription event also becomes its subscription, so its plan (api/billing/service.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from api.billing import attribution, fields
from api.billing.attribution import Attributed
from api.billing.models import Attribution, StripeEvent
from api.billing.objects import store_event_object
from api.billing.plans import subscription_facts
from api.billing.service import apply_subscription_event

# Event families Settld reads: subscriptions for plans, customers for tenant links; invoices, charges,
# payment intents, invoice payments, payouts and the balance for finance.
SUPPORTED_PREFIXES = ("customer.", "invoice.", "invoice_payment.", "charge.", "payment_intent.", "payout.",
                      "balance.")  # fmt: skip


def is_supported(event_type: str) -> bool:
    return event_type.startswith(SUPPORTED_PREFIXES)


@dataclass(frozen=True)
class Stored:
    created: bool  # False: the event id was stored already (a duplicate)
    attributed: Attributed


def store_event(session: Session, event: dict[str, Any], *, source: str, now: datetime) -> Stored:
    """Insert the event unless its id is already stored, attributed by the one set of rules; a new event
    that names a tenant may attribute parked ones. The caller commits."""
    stored = session.get(StripeEvent, event["id"])
    if stored is not None:
        return Stored(False, Attributed(stored.attribution, stored.tenant_id, stored.customer_id))
    found = attribution.resolve(session, event)
    obj = event["data"]["object"]
    related = attribution.related_reference(event)  # a v2 notification names its object instead
    status, plan = subscription_facts(event)
    session.add(
        StripeEvent(
            event_id=event["id"],
            event_type=event["type"],
            created=event["created"],
            tenant_id=found.tenant_id,
            attribution=found.attribution,
            api_version=(fields.text(event.get("api_version")) or "")[:64] or None,
            object_type=(fields.text(obj.get("object")) or (related[0] if related else ""))[:64] or None,
            object_id=fields.text(obj.get("id")) or (related[1] if related else None),
            livemode=bool(event.get("livemode", False)),
            ignored=not is_supported(event["type"]),
            customer_id=found.customer_id,
            subscription_status=status,
            plan=plan,
            source=source,
            payload=fields.storable_json(event),
            received_at=now,
        )
    )
    session.flush()
    # The object it carries, as true at the event's `created` (kept only if no newer state is stored).
    store_event_object(session, event, tenant_id=found.tenant_id, now=now)
    if found.attribution == Attribution.tenant:
        attribution.learn_customer(session, event, tenant_id=found.tenant_id, now=now)
        attribution.attribute_parked(session, now=now)
        apply_subscription_event(session, tenant_id=found.tenant_id, event=event, now=now)
    return Stored(True, found)
