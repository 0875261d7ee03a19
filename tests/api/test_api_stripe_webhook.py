"""The Stripe webhook: signatures made exactly as Stripe makes them (t=<unix>,v1=HMAC-SHA256 of "<t>.<body>"
with the endpoint secret, by the official SDK's own helper), never a bypass of verification."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.billing.models import StripeCustomerTenant, StripeEvent, StripeObject, StripeWebhookDelivery
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
                                                 "attribution": "tenant", "delivery_id": 0}  # fmt: skip
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
    document = event("evt_9", "mandate.updated", id="cus_9", object="customer", metadata={})
    body = json.dumps(document)
    response = webhook_client.post(URL, content=body, headers=signed(body))
    assert response.status_code == 200, response.text
    assert response.json()["ignored"] is True and response.json()["tenant_id"] == "globex"
    assert deliveries(database_url) == [("ignored", None, "evt_9", False)]


def test_replay_reapplies_verified_dead_letters_and_refuses_bad_signatures_without_copying_them(
    webhook_client: TestClient, database_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from settld.cli.main import app

    stale = json.dumps(event("evt_stale"))  # authentic, but delivered late: a dead letter a replay applies
    assert webhook_client.post(URL, content=stale, headers=signed(stale, timestamp=int(time.time()) - 3600)).json()[
        "reason"
    ] == "timestamp_outside_tolerance"  # fmt: skip
    tampered_body = json.dumps(event("evt_forged"))
    forged_headers = signed(tampered_body)
    tampered_body = tampered_body.replace('"growth"', '"enterprise"')
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

    applied = run()
    assert applied["dead_letters"]["applied"] == 1
    assert applied["dead_letters"]["refused"] == {"signature_verification_failed": 1}
    assert applied["pulled"]["skipped"] == {"no_stripe_api_key": 1}
    assert stored_events(database_url) == 1

    for _ in range(3):  # the applied letter is done; the forged one is refused again, never applied or copied
        again = run()
        assert again["dead_letters"]["found"] == 1
        assert again["dead_letters"]["refused"] == {"signature_verification_failed": 1}
    assert stored_events(database_url) == 1
    database = Database(database_url)
    try:
        with database.session() as session:
            rows = session.scalars(
                select(StripeWebhookDelivery).order_by(StripeWebhookDelivery.delivery_id)
            ).all()
            assert [(d.event_id, d.status, d.replay_attempts, d.last_error, d.resolution) for d in rows] == [
                ("evt_stale", "rejected", 1, None, "accepted"),
                ("evt_forged", "rejected", 4, "signature_verification_failed", None),
            ]
            assert rows[0].resolved_at is not None and rows[1].resolved_at is None
    finally:
        database.dispose()


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


def test_events_without_a_known_tenant_are_parked_with_2xx_and_attributed_when_a_link_arrives(
    webhook_client: TestClient, database_url: str
) -> None:
    def post(document: dict) -> dict:
        body = json.dumps(document)
        response = webhook_client.post(URL, content=body, headers=signed(body))
        assert response.status_code == 200, response.text
        return response.json()

    customer = event("evt_c1", "customer.created", id="cus_7", object="customer", metadata={})
    invoice = event("evt_i1", "invoice.paid", id="in_7", object="invoice", customer="cus_7", metadata={},
                    total=9900, currency="usd")  # fmt: skip
    charge = event("evt_ch1", "charge.succeeded", id="ch_7", object="charge", customer=None, metadata={},
                   invoice="in_7", amount=9900, currency="usd")  # fmt: skip
    payout = event(
        "evt_p1", "payout.paid", id="po_1", object="payout", customer=None, metadata={}, amount=500
    )
    balance = event("evt_b1", "balance.available", id=None, object="balance", customer=None, metadata={})
    answers = [post(document) for document in (customer, invoice, charge, payout, balance)]
    assert [(a["attribution"], a["tenant_id"]) for a in answers] == [
        ("unattributed", None), ("unattributed", None), ("unattributed", None), ("platform", None),
        ("platform", None),
    ]  # fmt: skip
    # The customer's tenant arrives: every parked event of that customer, and the charge of its invoice.
    linked = event(
        "evt_c2", "customer.updated", id="cus_7", object="customer", metadata={"tenant_id": "globex"}
    )
    assert post(linked)["tenant_id"] == "globex"
    database = Database(database_url)
    try:
        with database.session() as session:
            stored = {e.event_id: (e.attribution, e.tenant_id) for e in session.scalars(select(StripeEvent))}
            objects = {
                (o.object_type, o.object_id): o.tenant_id for o in session.scalars(select(StripeObject))
            }
    finally:
        database.dispose()
    assert stored == {
        "evt_c1": ("tenant", "globex"), "evt_i1": ("tenant", "globex"), "evt_ch1": ("tenant", "globex"),
        "evt_p1": ("platform", None), "evt_b1": ("platform", None), "evt_c2": ("tenant", "globex"),
    }  # fmt: skip
    assert objects == {("invoice", "in_7"): "globex", ("charge", "ch_7"): "globex", ("payout", "po_1"): None}
    assert {d[0] for d in deliveries(database_url)} == {"accepted"}
