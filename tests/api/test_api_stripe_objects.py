"""Stripe events landed as files meet webhook deliveries in one event store, and the objects events carry
are kept in their latest known state, whatever order the events arrive in."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.billing.landed import import_landed_events
from api.billing.models import StripeEvent, StripeObject
from api.core.database import Database
from tests.api.factories import URL, event, signed


def landed(*events: dict | str, tenant_id: str | None = None) -> list[dict]:
    """Rows as LANDED_EVENTS_SQL returns them: the event's JSON line and its metadata.tenant_id."""
    return [
        {"event_id": None, "tenant_id": tenant_id, "payload": e if isinstance(e, str) else json.dumps(e)}
        for e in events
    ]


def stored(database_url: str, model, *columns) -> list[tuple]:
    database = Database(database_url)
    try:
        with database.session() as session:
            rows = session.execute(
                select(*[getattr(model, c) for c in columns]).order_by(*[getattr(model, c) for c in columns])
            )
            return [tuple(row) for row in rows]
    finally:
        database.dispose()


def invoice_event(event_id: str, created: int, status: str, total: int) -> dict:
    obj = {"id": "in_1", "object": "invoice", "customer": "cus_1", "status": status, "total": total,
           "currency": "usd", "period_start": 1_788_220_800, "period_end": 1_790_899_200,
           "metadata": {"tenant_id": "acme"}}  # fmt: skip
    return {
        "id": event_id,
        "object": "event",
        "type": f"invoice.{status}",
        "created": created,
        "data": {"object": obj},
    }


def test_landed_events_join_the_webhook_store_once_and_bad_lines_are_counted(
    database_url: str, webhook_client: TestClient
) -> None:
    pushed = event("evt_pushed", created=1_790_000_100)
    body = json.dumps(pushed)
    assert webhook_client.post(URL, content=body, headers=signed(body)).status_code == 200

    rows = landed(
        event("evt_landed"), pushed, event("evt_landed"), "{not json", {"id": "evt_x"}, tenant_id="acme"
    )
    first = import_landed_events(database_url, rows)
    again = import_landed_events(database_url, rows)

    assert (first.rows, first.inserted, first.already_stored) == (5, 1, 2)
    assert dict(first.skipped) == {"invalid_json": 1, "schema_invalid": 1}
    assert (again.inserted, again.already_stored) == (0, 3)  # idempotent
    assert stored(database_url, StripeEvent, "event_id", "source", "plan") == [
        ("evt_landed", "landing", "growth"),
        ("evt_pushed", "webhook", "growth"),
    ]


def test_an_older_event_never_overwrites_a_newer_object_state(database_url: str) -> None:
    finalized = invoice_event("evt_fin", 1_790_000_000, "open", 10_111)
    paid = invoice_event("evt_paid", 1_790_000_500, "paid", 10_111)
    # The paid event lands first, the finalization (older) afterwards.
    summary = import_landed_events(database_url, landed(paid, finalized, tenant_id="acme"))

    assert summary.inserted == 2
    assert stored(
        database_url,
        StripeObject,
        "object_type",
        "object_id",
        "tenant_id",
        "status",
        "currency",
        "amount_cents",
        "state_source",
    ) == [  # fmt: skip
        ("invoice", "in_1", "acme", "paid", "USD", 10_111, "event:evt_paid")
    ]
