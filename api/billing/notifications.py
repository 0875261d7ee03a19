"""Stripe v2 event notifications (Event Destinations' thin events): `object` `v2.core.event`, an ISO-8601
`created`, a `related_object` reference ({id, type, url}) and no `data.object`.

They are parsed with the official SDK (`StripeClient.parse_event_notification_without_verification`, after
the webhook verified the signature the same way as for v1 events), stored in the one event store like any
event (its `created` as epoch seconds, `object_type`/`object_id` the related object's), and attributed by
the same rules through the related object once Settld knows it. The related object is fetched through the
SDK (`fetch_related_object`) by `fetch_related_objects`, run with the incremental pull, never inside the
webhook request: a thin event whose related object cannot be fetched stays parked, it is not a dead letter.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.billing import attribution, fields
from api.billing.models import Attribution, StripeEvent
from api.billing.objects import ObjectCounts, store_object

V2_EVENT = "v2.core.event"
_PARSER = stripe.StripeClient("sk_parse_only_no_requests")  # parsing makes no request


def is_notification(document: Any) -> bool:
    return isinstance(document, dict) and document.get("object") == V2_EVENT


def as_event(body: bytes, document: dict[str, Any]) -> dict[str, Any]:
    """The notification as an event of the store: the SDK's parse, `created` in epoch seconds, an empty
    `data.object` (a thin event carries none). ValueError when it is not a notification the SDK reads."""
    try:
        notification = _PARSER.parse_event_notification_without_verification(body)
        created = datetime.fromisoformat(str(notification.created).replace("Z", "+00:00"))
    except Exception as error:  # untrusted input: whatever the SDK's parse raises, it is not a notification
        raise ValueError(f"not a v2 event notification: {error!r}"[:300]) from error
    related = getattr(notification, "related_object", None)
    reference = None
    if related is not None:
        reference = {"id": related.id, "type": related.type, "url": related.url}
    return {
        **document,
        "created": int(created.timestamp()),
        "created_iso": document.get("created"),
        "related_object": reference,
        "data": {"object": {}},
    }


def fetch_related_objects(
    session: Session, client: stripe.StripeClient, *, account: str, now: datetime
) -> Counter:
    """For each parked notification, fetch its related object through the SDK and store it (as true at
    the notification's `created`); a customer's `metadata.tenant_id` maps the customer. Then parked events
    are attributed again. Returns counts by outcome (fetched, failed, no_related_object)."""
    outcomes: Counter = Counter()
    parked = session.scalars(
        select(StripeEvent).where(StripeEvent.attribution == Attribution.unattributed)
        .order_by(StripeEvent.created, StripeEvent.event_id)
    ).all()  # fmt: skip
    for stored in parked:
        document = json.loads(stored.payload)
        if not is_notification(document):
            continue
        if attribution.related_reference(document) is None:
            outcomes["no_related_object"] += 1
            continue
        try:
            notification = client.parse_event_notification_without_verification(
                json.dumps({**document, "created": document.get("created_iso")})
            )
            fetched = notification.fetch_related_object()
        except stripe.StripeError:
            outcomes["failed"] += 1  # stays parked; the next pull tries again
            continue
        obj = fetched.to_dict() if fetched is not None else None
        if not isinstance(obj, dict):
            outcomes["failed"] += 1
            continue
        outcomes["fetched"] += 1
        store_object(session, obj, state_at=stored.created, state_source=f"fetched:{stored.event_id}",
                     account=account, now=now, counts=ObjectCounts())  # fmt: skip
        tenant = fields.metadata_tenant(obj)
        if tenant:
            attribution.learn_customer(session, {"data": {"object": obj}}, tenant_id=tenant, now=now)
    session.flush()
    attribution.attribute_parked(session, now=now)
    return outcomes
