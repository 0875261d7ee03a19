"""Stripe v2 event notifications (thin events: ISO `created`, `related_object`, no `data.object`): parsed
with the official SDK, answered 2xx and stored, their related object fetched through the SDK from the
emulator (localstripe on loopback) by the pull, which attributes them; never a replayable dead letter when
no replay could ever accept them."""

from __future__ import annotations

import json
from pathlib import Path

import stripe
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.billing.models import StripeEvent, StripeWebhookDelivery
from api.billing.notifications import fetch_related_objects
from api.billing.pull import pull_events
from api.core.database import Database, utc_now
from api.core.migrate import migrate_database
from api.core.settings import ApiSettings
from api.main import create_app
from devtools.stripe_emulator import running_emulator
from tests.api.factories import SECRET, URL, signed


def notification(event_id: str, related: dict | None, **fields) -> dict:
    return {"id": event_id, "object": "v2.core.event", "type": "v1.customer.updated",
            "created": "2026-10-05T12:00:00.000Z", "livemode": False, "context": None,
            "related_object": related, **fields}  # fmt: skip


def test_a_v2_notification_is_stored_with_2xx_and_attributed_once_its_related_object_is_fetched(
    tmp_path: Path,
) -> None:
    api_url = f"sqlite:///{tmp_path / 'api.sqlite3'}"
    migrate_database(api_url)
    with running_emulator() as base_url:
        client = stripe.StripeClient("sk_test_v2", base_addresses={"api": base_url})
        customer = client.v1.customers.create(params={"metadata": {"tenant_id": "tnt_v2"}})
        related = {"id": customer.id, "type": "customer", "url": f"/v1/customers/{customer.id}"}
        body = json.dumps(notification("evt_v2_1", related))
        settings = ApiSettings(database_url=api_url, stripe_webhook_secret=SECRET)
        with TestClient(create_app(settings)) as api:
            answer = api.post(URL, content=body, headers=signed(body))
            forged = api.post(URL, content=body.replace("12:00", "13:00"), headers=signed(body))
            not_one = json.dumps({"id": "evt_v2_bad", "object": "v2.core.event", "created": "yesterday"})
            broken = api.post(URL, content=not_one, headers=signed(not_one))
        assert answer.status_code == 200, answer.text
        assert (answer.json()["attribution"], answer.json()["tenant_id"]) == ("unattributed", None)
        assert (forged.status_code, broken.status_code) == (400, 400)
        assert broken.json()["reason"] == "schema_invalid"

        database = Database(api_url)
        try:
            with database.transaction() as session:  # what the pull runs after listing events
                fetched = fetch_related_objects(session, client, account="default", now=utc_now())
            summary = pull_events(api_url, client)  # nothing parked is left to fetch
            with database.session() as session:
                stored = session.get(StripeEvent, "evt_v2_1")
                letters = [
                    (d.event_id, d.status, d.reason, d.replayable)
                    for d in session.scalars(select(StripeWebhookDelivery).order_by(StripeWebhookDelivery.delivery_id))
                ]  # fmt: skip
        finally:
            database.dispose()
    assert fetched == {"fetched": 1} and summary.related_objects == {}
    assert (stored.attribution, stored.tenant_id, stored.object_type, stored.object_id) == (
        "tenant", "tnt_v2", "customer", customer.id,
    )  # fmt: skip
    assert stored.created == 1_791_201_600 and stored.api_version is None
    # the forged copy is replayable (only a valid signature lets it in); a body that is no notification is
    # refused the same way on every replay: not a dead letter
    assert letters == [
        ("evt_v2_1", "ignored", None, False),
        ("evt_v2_1", "rejected", "signature_verification_failed", True),
        ("evt_v2_bad", "rejected", "schema_invalid", False),
    ]
