"""Receiving Stripe webhooks: verify with the official SDK, record every delivery, store each event once.

Order of judgement (the first that fails names the delivery's reason key):
1. `signature_verification_failed`: no or malformed `Stripe-Signature`, or no v1 signature matching
   HMAC-SHA256(secret, "<t>.<body>") (`stripe.WebhookSignature.verify_header` without a tolerance);
2. `timestamp_outside_tolerance`: a valid signature older than the tolerance (the same SDK call with it);
3. `invalid_json`: the (authentic) body is not JSON;
4. `schema_invalid`: not an object with string `id`, string `type`, integer `created` and `data.object`;
5. `tenant_unresolved`: neither `metadata.tenant_id` on the event's object (or on its customer, when
   expanded) nor the customer-to-tenant mapping names a tenant.
Accepted events are stored once per event id: a repeated delivery is recorded as `duplicate` and changes
nothing. Event types Settld does not use are stored and marked ignored. A rejected delivery keeps its body
and signature header (replayable when it parsed as an event) so `settld stripe replay` can re-apply it after
verifying the signature again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.billing import fields
from api.billing.models import StripeCustomerTenant, StripeEvent, StripeWebhookDelivery
from api.billing.objects import store_event_object
from settld.vocabulary import WEBHOOK_REJECTION_REASONS

REASON_KEYS = WEBHOOK_REJECTION_REASONS  # seed billing_webhook_rejection_reasons, in the order judged
# Event families Settld reads (subscriptions for plans; invoices, charges, payouts for finance).
SUPPORTED_PREFIXES = ("customer.subscription.", "invoice.", "charge.", "payout.", "balance.")
MAX_KEPT_BODY = 1 << 20  # a longer body is kept truncated (and is not replayable)


class WebhookRejected(Exception):
    def __init__(self, reason: str, message: str, *, event: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.reason, self.message, self.event = reason, message, event


@dataclass(frozen=True)
class Outcome:
    status: str  # accepted | duplicate | ignored | rejected
    delivery_id: int
    event_id: str | None = None
    event_type: str | None = None
    tenant_id: str | None = None
    reason: str | None = None
    message: str | None = None


def verify(body: bytes, signature_header: str | None, secret: str, tolerance: int) -> None:
    """Raise WebhookRejected unless `body` carries a valid, recent enough Stripe signature."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise WebhookRejected("invalid_json", "the body is not UTF-8 text") from error
    if signature_header is not None and not signature_header.isascii():
        # Stripe's header is ASCII; the SDK's constant-time compare raises TypeError on anything else.
        raise WebhookRejected("signature_verification_failed", "the Stripe-Signature header is not ASCII")
    try:
        stripe.WebhookSignature.verify_header(text, signature_header, secret, tolerance=None)
    except stripe.SignatureVerificationError as error:
        raise WebhookRejected("signature_verification_failed", str(error).split(";")[0][:300]) from error
    if tolerance > 0:
        try:
            stripe.WebhookSignature.verify_header(text, signature_header, secret, tolerance=tolerance)
        except stripe.SignatureVerificationError as error:
            raise WebhookRejected("timestamp_outside_tolerance", str(error)[:300]) from error


def parse_event(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise WebhookRejected("invalid_json", f"the body is not JSON: {error}"[:300]) from error
    problems = []
    if not isinstance(event, dict):
        raise WebhookRejected("schema_invalid", "the event is not a JSON object")
    # ids and types Stripe makes are short ASCII; anything a column cannot hold is not an event of Stripe's
    if fields.text(event.get("id")) is None:
        problems.append("id")
    if fields.text(event.get("type")) is None:
        problems.append("type")
    if fields.integer(event.get("created")) is None:
        problems.append("created")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        problems.append("data.object")
    if problems:
        raise WebhookRejected("schema_invalid", f"missing or invalid: {', '.join(problems)}", event=event)
    return event


def resolve_tenant(session: Session, event: dict[str, Any]) -> str:
    obj = event["data"]["object"]
    tenant = fields.metadata_tenant(obj) or fields.metadata_tenant(obj.get("customer"))
    if tenant:
        return tenant
    customer_id = fields.reference_id(
        obj.get("id") if obj.get("object") == "customer" else obj.get("customer")
    )
    if customer_id:
        mapping = session.get(StripeCustomerTenant, customer_id)
        if mapping is not None:
            return mapping.tenant_id
    raise WebhookRejected("tenant_unresolved", "no metadata.tenant_id and no tenant mapped to the customer",
                          event=event)  # fmt: skip


PLAN_METADATA_KEYS = ("nooterraPlan", "nooterra_plan", "plan", "planId", "plan_id")


def _plan_from_metadata(value: Any) -> str | None:
    metadata = value.get("metadata") if isinstance(value, dict) else None
    if isinstance(metadata, dict):
        for key in PLAN_METADATA_KEYS:
            if isinstance(metadata.get(key), str) and metadata[key].strip():
                return metadata[key].strip().lower()
    return None


def subscription_facts(event: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(customer id, status, plan) of a subscription event, else (customer id, None, None).

    The plan is named in metadata (`plan` and its spellings) on the subscription, else on its first
    item's price; the status of a `customer.subscription.deleted` event is `canceled`.
    """
    obj = event["data"]["object"]
    customer_id = fields.reference_id(obj.get("customer"))
    if not event["type"].startswith("customer.subscription."):
        return customer_id, None, None
    status = "canceled" if event["type"] == "customer.subscription.deleted" else obj.get("status")
    plan = _plan_from_metadata(obj)
    items = obj.get("items", {}).get("data") if isinstance(obj.get("items"), dict) else None
    if plan is None and isinstance(items, list) and items and isinstance(items[0], dict):
        plan = _plan_from_metadata(items[0].get("price")) or _plan_from_metadata(items[0].get("plan"))
    return customer_id, status.lower() if isinstance(status, str) else None, plan


def learn_customer(session: Session, event: dict[str, Any], *, tenant_id: str, now: datetime) -> None:
    """Remember customer -> tenant when an event's own metadata names the tenant (a customer object, or an
    object of that customer), so the customer's later events without metadata (invoices, charges) resolve.
    An existing mapping is never overwritten by an event: changing it is an operator's decision."""
    obj = event["data"]["object"]
    if fields.metadata_tenant(obj) != tenant_id:
        return
    customer_id = fields.reference_id(
        obj.get("id") if obj.get("object") == "customer" else obj.get("customer")
    )
    if customer_id and session.get(StripeCustomerTenant, customer_id) is None:
        session.add(StripeCustomerTenant(customer_id=customer_id, tenant_id=tenant_id, created_at=now))
        session.flush()


def is_supported(event_type: str) -> bool:
    return event_type.startswith(SUPPORTED_PREFIXES)


def store_event(
    session: Session, event: dict[str, Any], *, tenant_id: str, source: str, now: datetime
) -> bool:
    """Insert the event unless its id is already stored; returns whether it was new."""
    if session.get(StripeEvent, event["id"]) is not None:
        return False
    obj = event["data"]["object"]
    customer_id, status, plan = subscription_facts(event)
    session.add(
        StripeEvent(
            event_id=event["id"],
            event_type=event["type"],
            created=event["created"],
            tenant_id=tenant_id,
            object_type=(fields.text(obj.get("object")) or "")[:64] or None,
            object_id=fields.text(obj.get("id")),
            livemode=bool(event.get("livemode", False)),
            ignored=not is_supported(event["type"]),
            customer_id=customer_id,
            subscription_status=status,
            plan=plan,
            source=source,
            payload=fields.storable_json(event),
            received_at=now,
        )
    )
    session.flush()
    # The object it carries, as true at the event's `created` (kept only if no newer state is stored).
    store_event_object(session, event, tenant_id=tenant_id, now=now)
    return True


def receive(
    session: Session,
    *,
    body: bytes,
    signature_header: str | None,
    secret: str,
    tolerance: int,
    now: datetime,
    source: str = "webhook",
    replayed_delivery_id: int | None = None,
) -> Outcome:
    """Judge one delivery, record it, and store its event when accepted. The caller commits."""
    event: dict[str, Any] | None = None
    try:
        verify(body, signature_header, secret, tolerance)
        event = parse_event(body)
        tenant_id = resolve_tenant(session, event)
    except WebhookRejected as rejected:
        event = rejected.event or event
        if event is None and rejected.reason in (
            "signature_verification_failed",
            "timestamp_outside_tolerance",
        ):
            event = _maybe_event(body)
        delivery = _record(session, body=body, signature_header=signature_header, now=now, source=source,
                           status="rejected", reason=rejected.reason, message=rejected.message, event=event,
                           tenant_id=None, replayed_delivery_id=replayed_delivery_id)  # fmt: skip
        return Outcome("rejected", delivery.delivery_id, delivery.event_id, delivery.event_type, None,
                       rejected.reason, rejected.message)  # fmt: skip
    created = store_event(session, event, tenant_id=tenant_id, source=source, now=now)
    learn_customer(session, event, tenant_id=tenant_id, now=now)
    status = "duplicate" if not created else ("accepted" if is_supported(event["type"]) else "ignored")
    delivery = _record(session, body=body, signature_header=signature_header, now=now, source=source, status=status,
                       reason=None, message=None, event=event, tenant_id=tenant_id,
                       replayed_delivery_id=replayed_delivery_id)  # fmt: skip
    return Outcome(status, delivery.delivery_id, event["id"], event["type"], tenant_id)


def _maybe_event(body: bytes) -> dict[str, Any] | None:
    """The body as an event, when it parses as one (to label and replay an unverified delivery)."""
    try:
        return parse_event(body)
    except WebhookRejected as rejected:
        return rejected.event


def _record(session: Session, *, body: bytes, signature_header: str | None, now: datetime, source: str, status: str,
            reason: str | None, message: str | None, event: dict[str, Any] | None, tenant_id: str | None,
            replayed_delivery_id: int | None) -> StripeWebhookDelivery:  # fmt: skip
    # What cannot be stored (NUL, lone surrogates, integers past BIGINT) is escaped or left out, and cut
    # to its column: a refused delivery is recorded whatever it holds. An escaped body is not replayable
    # (the signature covers the bytes as sent).
    decoded = body.decode("utf-8", errors="replace")
    text = fields.storable(decoded, MAX_KEPT_BODY)
    intact = text == decoded
    raw_id = event.get("id") if event else None
    raw_type = event.get("type") if event else None
    event_id = fields.storable(raw_id, 255) or None if isinstance(raw_id, str) else None
    event_type = fields.storable(raw_type, 255) or None if isinstance(raw_type, str) else None
    delivery = StripeWebhookDelivery(
        received_at=now,
        source=source,
        status=status,
        reason=reason,
        message=fields.storable(message, 2000) if message else None,
        event_id=event_id,
        event_type=event_type,
        event_created=fields.integer(event.get("created")) if event else None,
        tenant_id=tenant_id,
        signature_header=fields.storable(signature_header, 2000) if signature_header else None,
        payload=text,
        # replayable: a rejected delivery whose body is a whole event (a new signature check decides later)
        replayable=status == "rejected" and intact and event_id is not None and reason != "invalid_json",
        replayed_delivery_id=replayed_delivery_id,
    )
    session.add(delivery)
    session.flush()
    return delivery


def dead_letters(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> list[Any]:
    query = select(StripeWebhookDelivery).where(
        StripeWebhookDelivery.status == "rejected", StripeWebhookDelivery.replayable.is_(True)
    )
    if since is not None:
        query = query.where(StripeWebhookDelivery.received_at >= since)
    if until is not None:
        query = query.where(StripeWebhookDelivery.received_at < until)
    return list(session.scalars(query.order_by(StripeWebhookDelivery.delivery_id)))
