"""Receiving Stripe webhooks: verify with the official SDK, record every delivery, store each event once.

Order of judgement (the first that fails names the delivery's reason key):
1. `signature_verification_failed`: no or malformed `Stripe-Signature`, or no v1 signature matching
   HMAC-SHA256(secret, "<t>.<body>") (`stripe.WebhookSignature.verify_header` without a tolerance);
2. `timestamp_outside_tolerance`: a valid signature older than the tolerance (the same SDK call with it);
3. `invalid_json`: the (authentic) body is not JSON;
4. `schema_invalid`: not an object with a storable string `id` and `type`, an integer `created` that fits
   BIGINT and `data.object`.
These are the only refusals (4xx): what Stripe must not retry. Every authentic event is accepted, whoever
it belongs to: a tenant's, the platform's (payouts, balance) or parked as `unattributed` until a link names
its tenant (api/billing/attribution.py). Accepted events are stored once per event id
(api/billing/events.py): a repeated delivery is recorded as `duplicate` and changes nothing. Event types
Settld does not use are stored and marked ignored. A rejected delivery keeps its body and signature header
(replayable when it parsed as an event) so `settld stripe replay` can re-apply it after verifying the
signature again; a replay updates that delivery's state (api/billing/replay.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.billing import events, fields, notifications
from api.billing.models import StripeWebhookDelivery
from settld.vocabulary import WEBHOOK_REJECTION_REASONS

REASON_KEYS = WEBHOOK_REJECTION_REASONS  # seed billing_webhook_rejection_reasons, in the order judged
# In the seed for deliveries recorded before issue 28, never raised again: an event without a known tenant
# is parked with 2xx (api/billing/attribution.py).
RETIRED_REASON_KEYS = ("tenant_unresolved",)
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
    attribution: str | None = None  # tenant | platform | unattributed, for a stored event


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
    if notifications.is_notification(event):  # a v2 thin event: ISO `created`, `related_object`, no data
        try:
            event = notifications.as_event(body, event)
        except ValueError as error:
            raise WebhookRejected("schema_invalid", str(error), event=event) from error
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


def judge(body: bytes, signature_header: str | None, secret: str | None, tolerance: int) -> dict[str, Any]:
    """The event of an authentic delivery, else WebhookRejected with the first reason that applies."""
    verify(body, signature_header, secret, tolerance)
    return parse_event(body)


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
        event = judge(body, signature_header, secret, tolerance)
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
    stored = events.store_event(session, event, source=source, now=now)
    status = (
        "duplicate"
        if not stored.created
        else ("accepted" if events.is_supported(event["type"]) else "ignored")
    )
    tenant_id = stored.attributed.tenant_id
    delivery = _record(session, body=body, signature_header=signature_header, now=now, source=source, status=status,
                       reason=None, message=None, event=event, tenant_id=tenant_id,
                       replayed_delivery_id=replayed_delivery_id)  # fmt: skip
    return Outcome(status, delivery.delivery_id, event["id"], event["type"], tenant_id,
                   attribution=stored.attributed.attribution)  # fmt: skip


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
        # replayable: a rejected delivery whose body is a whole event that a new signature check may let in;
        # a body that is not JSON or not an event is refused the same way on every replay
        replayable=status == "rejected"
        and intact
        and event_id is not None
        and reason not in ("invalid_json", "schema_invalid"),
        replayed_delivery_id=replayed_delivery_id,
    )
    session.add(delivery)
    session.flush()
    return delivery


def dead_letters(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> list[Any]:
    """Rejected, replayable deliveries no replay has resolved yet: one row per delivery however often
    it was replayed."""
    query = select(StripeWebhookDelivery).where(
        StripeWebhookDelivery.status == "rejected",
        StripeWebhookDelivery.replayable.is_(True),
        StripeWebhookDelivery.resolved_at.is_(None),
    )
    if since is not None:
        query = query.where(StripeWebhookDelivery.received_at >= since)
    if until is not None:
        query = query.where(StripeWebhookDelivery.received_at < until)
    return list(session.scalars(query.order_by(StripeWebhookDelivery.delivery_id)))
