"""Checkout and the customer portal through the official stripe SDK against the project's Stripe emulator
(devtools/stripe_emulator.py): stub mode without a key, live sessions, the free plan (400), a plan without
a price (409), upstream failures (502 with their category), the SDK's retries, and the circuit breaker
(503 for the cool-down, then closed again) — all by making the emulator fail."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest
import stripe
from fastapi.testclient import TestClient

from api.core.settings import ApiSettings
from api.main import create_app
from devtools.stripe_emulator import clear_faults, running_emulator, set_faults
from tests.api.factories import auth

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no database rule here
CHECKOUT, PORTAL = (
    "/ops/finance/billing/providers/stripe/checkout",
    "/ops/finance/billing/providers/stripe/portal",
)
KEYS = itertools.count()
BODY = {"plan": "builder", "success_url": "https://app.test/ok", "cancel_url": "https://app.test/cancel"}


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    with running_emulator() as base_url:
        yield base_url


def app_client(database_url: str, **settings: object) -> TestClient:
    return TestClient(create_app(ApiSettings(database_url=database_url, **settings)))


@pytest.fixture
def live(database_url: str, emulator: str) -> Iterator[TestClient]:
    clear_faults(emulator)
    with app_client(database_url, stripe_api_key="sk_test_settld", stripe_api_base=emulator,
                    stripe_prices={"builder": "price_builder"}, stripe_max_network_retries=0,
                    billing_circuit_reset_seconds=1.0) as client:  # fmt: skip
        yield client
    clear_faults(emulator)


def post(client: TestClient, token: str, path: str, body: dict, key: str | None = None):  # noqa: ANN201
    return client.post(path, json=body, headers=auth(token, **{"Idempotency-Key": key or f"k{next(KEYS)}"}))


def test_stub_mode_without_a_key(database_url: str, token: str) -> None:
    with app_client(database_url) as client:
        first = post(client, token, CHECKOUT, BODY, key="same")
        assert first.status_code == 201, first.text
        body = first.json()
        assert (body["mode"], body["plan"], body["provider"]) == ("stub", "builder", "stripe")
        assert body["session_id"].startswith("cs_test_stub_") and "tenant=acme" in body["session_url"]
        assert post(client, token, CHECKOUT, BODY, key="same").json() == body  # idempotent
        assert post(client, token, CHECKOUT, BODY).json()["session_id"] == body["session_id"]  # deterministic
        free = post(client, token, CHECKOUT, {**BODY, "plan": "free"})
        assert free.status_code == 400 and free.json()["code"] == "BILLING_PLAN_NOT_PURCHASABLE"
        nobody = post(client, token, PORTAL, {})
        assert nobody.status_code == 400 and nobody.json()["code"] == "BILLING_CUSTOMER_REQUIRED"
        portal = post(client, token, PORTAL, {"customer_id": "cus_1"})
        assert portal.status_code == 201 and portal.json()["mode"] == "stub"


def test_live_sessions_through_the_sdk(live: TestClient, token: str, emulator: str) -> None:
    customer = stripe.StripeClient("sk_test_settld", base_addresses={"api": emulator}).v1.customers.create()
    created = post(live, token, CHECKOUT, {**BODY, "customer_id": customer.id})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["mode"], body["price_id"], body["customer_id"]) == ("live", "price_builder", customer.id)
    assert body["session_id"].startswith("cs_test_emulated_") and body["session_url"].startswith("https://")
    missing = post(live, token, CHECKOUT, {**BODY, "customer_id": "cus_gone"})  # retried once without it
    assert missing.status_code == 201 and missing.json()["customer_id"] is None
    unpriced = post(live, token, CHECKOUT, {**BODY, "plan": "growth"})
    assert unpriced.status_code == 409 and unpriced.json()["code"] == "BILLING_PROVIDER_NOT_CONFIGURED"
    portal = post(live, token, PORTAL, {"customer_id": customer.id, "return_url": "https://app.test/billing"})
    assert portal.status_code == 201 and portal.json()["session_id"].startswith("bps_emulated_")


def test_upstream_failures_open_the_circuit_for_a_cool_down(
    live: TestClient, token: str, emulator: str
) -> None:
    rejected = [post(live, token, PORTAL, {"customer_id": "cus_unknown"}) for _ in range(4)]
    assert {(r.status_code, r.json()["category"]) for r in rejected} == {(502, "upstream_rejected")}
    set_faults(emulator, status=503)  # the provider is down
    failed = [post(live, token, CHECKOUT, BODY) for _ in range(3)]
    assert [(r.status_code, r.json()["code"], r.json()["category"], r.json()["provider_status"]) for r in failed] == [
        (502, "BILLING_PROVIDER_UPSTREAM_ERROR", "upstream_unavailable", 503)] * 3  # fmt: skip
    clear_faults(emulator)  # back, but the breaker does not know yet: it answers without calling
    paused = post(live, token, CHECKOUT, BODY)
    assert paused.status_code == 503 and paused.json()["code"] == "BILLING_PROVIDER_CIRCUIT_OPEN"
    assert paused.headers["retry-after"] == "1" and paused.json()["retry_after_seconds"] == 1
    time.sleep(1.1)  # the cool-down: one trial call closes it again
    assert post(live, token, CHECKOUT, BODY).status_code == 201


def test_the_sdk_retries_a_transient_failure(database_url: str, token: str, emulator: str) -> None:
    clear_faults(emulator)
    with app_client(database_url, stripe_api_key="sk_test_settld", stripe_api_base=emulator,
                    stripe_prices={"builder": "price_builder"}, stripe_max_network_retries=1) as client:  # fmt: skip
        set_faults(emulator, status=500, count=1)
        created = post(client, token, CHECKOUT, BODY)
    clear_faults(emulator)
    assert created.status_code == 201, created.text
