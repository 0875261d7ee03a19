"""Stripe events from the emulator (localstripe on loopback, the official SDK): webhooks deliver them, a
dropped window is detected as a gap once the incremental pull has listed it back, and plans resolve to the
newest subscription state."""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import stripe
from sqlalchemy import delete, func, select

from api.billing.listings import pull_objects
from api.billing.models import StripeEvent, StripeWebhookDelivery
from api.billing.pull import pull_events
from api.core.database import Database
from api.core.migrate import migrate_database
from devtools.smoke import _serve_api
from devtools.stripe_emulator import register_webhook, running_emulator
from settld.settings import Settings

pytestmark = [pytest.mark.slow]

TENANT = "tnt_pull"
SECRET = "whsec_pull_test_0001"
MODELS = [
    dg.AssetKey(["staging", "stg_operator_api__stripe_events"]),
    dg.AssetKey(["staging", "stg_operator_api__stripe_webhook_deliveries"]),
    dg.AssetKey(["marts", "dim_tenant_billing_plan"]),
    dg.AssetKey(["marts", "fct_stripe_event_gaps"]),
    dg.AssetKey(["staging", "stg_operator_api__stripe_objects"]),
]


def _count(database_url: str, event_type: str) -> int:
    database = Database(database_url)
    try:
        with database.session() as session:
            return session.scalar(
                select(func.count()).select_from(StripeEvent).where(StripeEvent.event_type == event_type)
            )
    finally:
        database.dispose()


def _source(database_url: str, event_id: str) -> str | None:
    database = Database(database_url)
    try:
        with database.session() as session:
            return session.scalar(select(StripeEvent.source).where(StripeEvent.event_id == event_id))
    finally:
        database.dispose()


def _wait_for(database_url: str, event_type: str, count: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while _count(database_url, event_type) < count:
        assert time.monotonic() < deadline, f"{event_type} x{count} never arrived"
        time.sleep(0.2)


def test_a_dropped_window_is_pulled_back_reported_as_a_gap_and_plans_follow_the_newest_event(
    tmp_path: Path,
) -> None:
    from orchestration.definitions import ASSETS, build_resources
    from orchestration.stages import transform_upstream

    api_url = f"sqlite:///{tmp_path / 'api.sqlite3'}"
    migrate_database(api_url)
    with running_emulator() as stripe_base, _serve_api(api_url, SECRET) as api_base:
        register_webhook(stripe_base, url=f"{api_base}/v1/webhooks/stripe", secret=SECRET)
        client = stripe.StripeClient("sk_test_pull", base_addresses={"api": stripe_base})
        customer = client.v1.customers.create(params={"metadata": {"tenant_id": TENANT}})
        card = client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
            }
        )
        client.v1.payment_methods.attach(card.id, params={"customer": customer.id})
        client.v1.customers.update(
            customer.id, params={"invoice_settings": {"default_payment_method": card.id}}
        )
        plan = client.v1.plans.create(
            params={
                "id": "p-builder",
                "amount": 9900,
                "currency": "usd",
                "interval": "month",
                "product": {"name": "Settld builder"},
            }  # fmt: skip
        )
        client.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"plan": plan.id}],
                "metadata": {"tenant_id": TENANT, "plan": "builder"},
            }  # fmt: skip
        )
        _wait_for(api_url, "customer.subscription.created", 1)
        time.sleep(1.1)  # the upgrade gets a later `created` second than the first subscription
        # The emulator emits no customer.subscription.updated: the upgrade is a second subscription here.
        client.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"plan": plan.id}],
                "metadata": {"tenant_id": TENANT, "plan": "growth"},
            }  # fmt: skip
        )
        _wait_for(api_url, "customer.subscription.created", 2)

        # A dropped window: the upgrade never reached us (no delivery, no stored event).
        database = Database(api_url)
        try:
            with database.transaction() as session:
                dropped = session.scalar(
                    select(StripeEvent.event_id)
                    .where(StripeEvent.event_type == "customer.subscription.created")
                    .order_by(StripeEvent.created.desc(), StripeEvent.event_id.desc())
                    .limit(1)
                )
                session.execute(
                    delete(StripeWebhookDelivery).where(StripeWebhookDelivery.event_id == dropped)
                )
                session.execute(delete(StripeEvent).where(StripeEvent.event_id == dropped))
        finally:
            database.dispose()

        first = pull_events(api_url, client)
        again = pull_events(api_url, client)
        objects, listed = pull_objects(api_url, client)
        objects_again, _ = pull_objects(api_url, client)
    # The dropped event comes back through the pull (other events may still be on their way through the
    # webhook when the pull lists them, so the pull can insert more than the one that was dropped).
    assert first.inserted >= 1 and first.already_stored >= 1 and first.cursor > 0
    assert again.inserted == 0 and again.cursor == first.cursor  # idempotent
    assert _count(api_url, "customer.subscription.created") == 2
    assert _source(api_url, dropped) == "pull"
    # Objects: both subscriptions and the invoices and charges they produced, each with its tenant (from
    # metadata, or from the customer the events mapped); a second listing changes nothing.
    assert listed["subscription"] == 2 and listed["invoice"] >= 2 and listed["charge"] >= 2
    assert objects.counts["tenant_unresolved"] == {}
    assert sum(objects_again.counts["unchanged"].values()) == sum(listed.values())
    assert sum(objects_again.counts["changed"].values()) + sum(objects_again.counts["inserted"].values()) == 0

    warehouse = tmp_path / "warehouse.duckdb"
    settings = Settings(warehouse_url=str(warehouse), landing_dir=tmp_path, artifacts_dir=tmp_path / "artifacts",
                        api_database_url=api_url)  # fmt: skip
    built = dg.materialize(ASSETS, resources=build_resources(settings), selection=transform_upstream(*MODELS))
    assert built.success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        gaps = con.execute("select missed_events, first_event_id from marts.fct_stripe_event_gaps").fetchall()
        plans = con.execute(
            "select plan, is_current from marts.dim_tenant_billing_plan where tenant_id = ? order by valid_from",
            [TENANT],
        ).fetchall()
        invoices = con.execute(
            "select count(*), count(distinct tenant_id), min(currency), min(amount_cents) "
            "from staging.stg_operator_api__stripe_objects where object_type = 'invoice'"
        ).fetchone()
    assert gaps == [(1, dropped)]
    assert invoices[0] >= 2 and invoices[1:] == (1, "USD", 9900)
    assert plans == [("builder", False), ("growth", True)]
