"""The Stripe webhook: signatures made exactly as Stripe makes them (t=<unix>,v1=HMAC-SHA256 of "<t>.<body>"
with the endpoint secret, by the official SDK's own helper), never a bypass of verification."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.billing.models import StripeCustomerTenant, StripeEvent, StripeWebhookDelivery
from api.core.database import Database, utc_now
from tests.api.factories import SECRET, URL, event, signed


def deliveries(database_url: str) -> list[tuple]:
    database = Database(database_url)
    try:
        with database.session() as session:
            return [
                (d.status, d.reason, d.event_id, d.replayable)
                for d in session.scalars(
                    select(StripeWebhookDelivery).order_by(StripeWebhookDelivery.delivery_id)
                )
            ]
    finally:
        database.dispose()


def stored_events(database_url: str) -> int:
    database = Database(database_url)
    try:
        with database.session() as session:
            return session.scalar(select(func.count()).select_from(StripeEvent))
    finally:
        database.dispose()


def test_a_valid_delivery_is_accepted_once_and_a_repeat_is_a_duplicate(
    webhook_client: TestClient, database_url: str
) -> None:
    body = json.dumps(event())
    first = webhook_client.post(URL, content=body, headers=signed(body))
    assert first.status_code == 200, first.text
    assert first.json() | {"delivery_id": 0} == {"ok": True, "duplicate": False, "ignored": False, "event_id": "evt_1",
                                                 "event_type": "customer.subscription.updated", "tenant_id": "acme",
                                                 "delivery_id": 0}  # fmt: skip
    again = webhook_client.post(URL, content=body, headers=signed(body))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert stored_events(database_url) == 1
    assert deliveries(database_url) == [
        ("accepted", None, "evt_1", False),
        ("duplicate", None, "evt_1", False),
    ]


@pytest.mark.parametrize(
    ("case", "reason", "replayable"),
    [
        ("tampered_body", "signature_verification_failed", True),
        ("wrong_secret", "signature_verification_failed", True),
        ("missing_header", "signature_verification_failed", True),
        ("stale_timestamp", "timestamp_outside_tolerance", True),
        ("not_json", "invalid_json", False),
        ("no_id_or_type", "schema_invalid", False),
        ("unknown_tenant", "tenant_unresolved", True),
    ],
)
def test_bad_deliveries_are_rejected_with_their_reason_key_and_recorded(
    webhook_client: TestClient, database_url: str, case: str, reason: str, replayable: bool
) -> None:
    body = json.dumps(event())
    headers = signed(body)
    if case == "tampered_body":
        body = body.replace('"growth"', '"enterprise"')
    elif case == "wrong_secret":
        headers = signed(body, secret="whsec_someone_else")
    elif case == "missing_header":
        headers = {"Content-Type": "application/json"}
    elif case == "stale_timestamp":
        headers = signed(body, timestamp=int(time.time()) - 3600)
    elif case == "not_json":
        body = "this is not json"
        headers = signed(body)
    elif case == "no_id_or_type":
        body = json.dumps({"object": "event", "data": {"object": {}}})
        headers = signed(body)
    elif case == "unknown_tenant":
        document = event()
        del document["data"]["object"]["metadata"]
        body = json.dumps(document)
        headers = signed(body)
    response = webhook_client.post(URL, content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "WEBHOOK_REJECTED" and response.json()["reason"] == reason
    ((status, recorded_reason, _, kept),) = deliveries(database_url)
    assert (status, recorded_reason, kept) == ("rejected", reason, replayable)
    assert stored_events(database_url) == 0


def test_the_customer_mapping_resolves_the_tenant_and_unused_types_are_stored_as_ignored(
    webhook_client: TestClient, database_url: str
) -> None:
    database = Database(database_url)
    try:
        with database.transaction() as session:
            session.add(StripeCustomerTenant(customer_id="cus_9", tenant_id="globex", created_at=utc_now()))
    finally:
        database.dispose()
    document = event("evt_9", "customer.created", id="cus_9", object="customer", metadata={})
    body = json.dumps(document)
    response = webhook_client.post(URL, content=body, headers=signed(body))
    assert response.status_code == 200, response.text
    assert response.json()["ignored"] is True and response.json()["tenant_id"] == "globex"
    assert deliveries(database_url) == [("ignored", None, "evt_9", False)]


def test_replay_reapplies_verified_dead_letters_and_refuses_bad_signatures(
    webhook_client: TestClient, database_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from settld.cli.main import app

    orphan = event("evt_orphan")
    del orphan["data"]["object"]["metadata"]  # no tenant yet: a dead letter until the customer is mapped
    orphan_body = json.dumps(orphan)
    tampered_body = json.dumps(event("evt_forged"))
    forged_headers = signed(tampered_body)
    tampered_body = tampered_body.replace('"growth"', '"enterprise"')
    assert webhook_client.post(URL, content=orphan_body, headers=signed(orphan_body)).json()["reason"] == (
        "tenant_unresolved"
    )
    assert webhook_client.post(URL, content=tampered_body, headers=forged_headers).json()["reason"] == (
        "signature_verification_failed"
    )
    monkeypatch.setenv("SETTLD_API_DATABASE_URL", database_url)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("SETTLD_ARTIFACTS_DIR", str(tmp_path))
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    # No STRIPE_API_KEY: only the stored dead letters are replayed (a pull needs the key).
    window = ["stripe", "replay", "--from", "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z",
              "--dead-letters-only"]  # fmt: skip

    def run(*extra: str) -> dict:
        result = CliRunner().invoke(app, [*window, *extra])
        assert result.exit_code == 0, result.output
        (report,) = tmp_path.glob(f"stripe/replay-*{'-dry-run' if extra else ''}.json")
        document = json.loads(report.read_text())
        report.unlink()
        return document

    dry = run("--dry-run")
    assert [i["result"] for i in dry["dead_letters"]["items"]] == ["would_apply", "refused"]
    assert stored_events(database_url) == 0

    database = Database(database_url)
    try:
        with database.transaction() as session:
            session.add(StripeCustomerTenant(customer_id="cus_1", tenant_id="acme", created_at=utc_now()))
    finally:
        database.dispose()
    applied = run()
    assert applied["dead_letters"]["applied"] == 1
    assert applied["dead_letters"]["refused"] == {"signature_verification_failed": 1}
    assert applied["pulled"]["skipped"] == {"no_stripe_api_key": 1}
    assert stored_events(database_url) == 1

    again = run()  # the applied dead letter is done; the forged one is refused again, never applied
    assert again["dead_letters"]["found"] == 1 and again["dead_letters"]["refused"] == {
        "signature_verification_failed": 1
    }
    assert stored_events(database_url) == 1


@pytest.mark.parametrize(
    ("case", "reason", "stored_id", "created"),
    [
        ("lone_surrogate_id", "signature_verification_failed", "\\ud800", 1_790_000_000),
        ("created_past_bigint", "signature_verification_failed", "evt_1", None),
        ("boolean_created", "signature_verification_failed", "evt_1", None),
        ("non_ascii_signature", "signature_verification_failed", "evt_1", 1_790_000_000),
        ("signed_nul_id", "schema_invalid", "evt_\\u0000", 1_790_000_000),
        ("signed_created_past_bigint", "schema_invalid", "evt_1", None),
    ],
)
def test_a_hostile_delivery_is_refused_and_still_recorded_with_what_cannot_be_stored_escaped(
    webhook_client: TestClient, database_url: str, case: str, reason: str, stored_id: str, created: int | None
) -> None:
    document = event()
    headers = {"Content-Type": "application/json"}
    if case == "lone_surrogate_id":
        document["id"] = "\ud800"
    elif case in ("created_past_bigint", "signed_created_past_bigint"):
        document["created"] = 2**63
    elif case == "boolean_created":
        document["created"] = True
    elif case == "signed_nul_id":
        document["id"] = "evt_\x00"
    body = json.dumps(document)
    if case.startswith("signed_"):
        headers = signed(body)
    elif case == "non_ascii_signature":
        headers = {"Stripe-Signature": "t=1,v1=\xe9".encode("latin-1")}
    response = webhook_client.post(URL, content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["reason"] == reason
    database = Database(database_url)
    try:
        with database.session() as session:
            (delivery,) = session.scalars(select(StripeWebhookDelivery)).all()
            assert (delivery.status, delivery.reason, delivery.event_id) == ("rejected", reason, stored_id)
            assert delivery.event_created == created
            assert delivery.payload == body  # json.dumps escapes: the body as sent is storable text
    finally:
        database.dispose()
    assert stored_events(database_url) == 0
