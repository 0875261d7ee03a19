"""The latest known state of each Stripe object finance reads (subscriptions, invoices, charges, payment
intents, invoice payments, balance transactions, payouts), from two paths: the objects embedded in stored events (webhook, pull, replay,
landing) and full listings through the SDK (api.billing.listings).

A state is kept with the instant it was true (`state_at`, epoch seconds): an event's `created`, or the
time of a listing. A state replaces the stored one only when it is at least as recent (ties: the larger
payload sha256, so the order of arrival never matters), so a late delivery of an older event never makes
older state win. An identical state changes nothing. The tenant is `metadata.tenant_id` on the object,
else the tenant mapped to its customer, else (balance transactions) the tenant of the charge they came
from, else the tenant of the event carrying it; an object with none is stored with a null tenant and
counted, never dropped.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from api.billing.fields import integer, metadata_tenant, reference_id, storable_json, text
from api.billing.models import StripeCustomerTenant, StripeObject
from api.billing.payments import amount_received, failure_facts, service_period

OBJECT_TYPES = ("subscription", "invoice", "charge", "payment_intent", "invoice_payment", "balance_transaction",
                "payout")  # fmt: skip
# The field that is the object's own amount in minor units (subscriptions have none): what was billed or
# attempted, never by itself money received (amount_received_cents, api/billing/payments.py).
AMOUNT_FIELDS = {"invoice": "total", "charge": "amount", "payment_intent": "amount", "invoice_payment": "amount_requested",
                 "balance_transaction": "amount", "payout": "amount"}  # fmt: skip
OUTCOMES = ("inserted", "changed", "unchanged", "older", "tenant_unresolved", "without_id")


@dataclass
class ObjectCounts:
    """Per outcome, per object type: what storing a batch of object states did."""

    counts: dict[str, Counter] = field(default_factory=lambda: {name: Counter() for name in OUTCOMES})

    def add(self, outcome: str, object_type: str) -> None:
        self.counts[outcome][object_type] += 1

    def as_metadata(self) -> dict[str, dict[str, int]]:
        return {name: dict(sorted(counter.items())) for name, counter in self.counts.items()}


def _tenant(session: Session, object_type: str, obj: dict[str, Any], fallback: str | None) -> str | None:
    tenant = metadata_tenant(obj)
    if tenant:
        return tenant
    customer_id = reference_id(obj.get("customer"))
    if customer_id:
        mapping = session.get(StripeCustomerTenant, customer_id)
        if mapping is not None:
            return mapping.tenant_id
    if object_type == "balance_transaction":
        source = reference_id(obj.get("source"))
        charge = session.get(StripeObject, ("charge", source)) if source else None
        if charge is not None and charge.tenant_id:
            return charge.tenant_id
    return fallback


def _values(
    session: Session, object_type: str, obj: dict[str, Any], fallback_tenant: str | None
) -> dict[str, Any]:
    payload = storable_json(obj)
    currency = text(obj.get("currency"))
    currency = currency if currency and len(currency) == 3 else None
    amount_field = AMOUNT_FIELDS.get(object_type)
    billed = obj if object_type == "invoice" else {}
    service_start, service_end = service_period(obj) if object_type == "invoice" else (None, None)
    return {
        "created": integer(obj.get("created")),
        "livemode": bool(obj.get("livemode", False)),
        "tenant_id": _tenant(session, object_type, obj, fallback_tenant),
        "customer_id": reference_id(obj.get("customer")),
        "status": (text(obj.get("status")) or "")[:64] or None,
        "currency": currency.upper() if currency else None,
        "amount_cents": integer(obj.get(amount_field)) if amount_field else None,
        "period_start": integer(billed.get("period_start")),
        "period_end": integer(billed.get("period_end")),
        "service_start": service_start,
        "service_end": service_end,
        "amount_received_cents": amount_received(object_type, obj),
        **failure_facts(object_type, obj),
        "payload": payload,
        "payload_sha256": hashlib.sha256(payload.encode("utf-8")).hexdigest(),
    }


def store_object(session: Session, obj: dict[str, Any], *, state_at: int, state_source: str, account: str,
                 now: datetime, counts: ObjectCounts, fallback_tenant: str | None = None) -> None:  # fmt: skip
    """Store `obj` (a Stripe object of one of OBJECT_TYPES) as true at `state_at` unless newer state is kept.
    `fallback_tenant`: the tenant of the event carrying the object, when the object itself names none."""
    object_type = obj.get("object")
    if object_type not in OBJECT_TYPES:
        return
    if not text(obj.get("id")):
        counts.add("without_id", object_type)  # nothing to key a row on: counted, not stored
        return
    values = _values(session, object_type, obj, fallback_tenant)
    if values["tenant_id"] is None:
        counts.add("tenant_unresolved", object_type)
    stored = session.get(StripeObject, (object_type, obj["id"]))
    if stored is None:
        session.add(
            StripeObject(
                object_type=object_type,
                object_id=obj["id"],
                account=account,
                state_at=state_at,
                state_source=state_source,
                first_stored_at=now,
                changed_at=now,
                **values,
            )  # fmt: skip
        )
        session.flush()  # a balance transaction stored later in the same batch finds this charge
        counts.add("inserted", object_type)
        return
    if (state_at, values["payload_sha256"]) < (stored.state_at, stored.payload_sha256):
        counts.add("older", object_type)
        return
    if stored.payload_sha256 == values["payload_sha256"] and stored.tenant_id == values["tenant_id"]:
        counts.add("unchanged", object_type)
        return
    for name, value in values.items():
        setattr(stored, name, value)
    stored.account, stored.state_at, stored.state_source, stored.changed_at = (
        account,
        state_at,
        state_source,
        now,
    )
    counts.add("changed", object_type)


def store_event_object(
    session: Session, event: dict[str, Any], *, tenant_id: str, now: datetime
) -> ObjectCounts:
    """The object an event carries, as true at the event's `created`; `tenant_id` is the event's tenant."""
    counts = ObjectCounts()
    obj = event.get("data", {}).get("object")
    if isinstance(obj, dict) and isinstance(event.get("created"), int):
        store_object(session, obj, state_at=event["created"], state_source=f"event:{event['id']}",
                     account=text(event.get("account")) or "default", now=now, counts=counts,
                     fallback_tenant=tenant_id)  # fmt: skip
    return counts
