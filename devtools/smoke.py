"""`settld smoke billing`: a subscription change driven end to end, from the Stripe emulator to the warehouse.

Steps, each timed and recorded in `artifacts/billing-smoke-status.json`:
1. start the Stripe emulator (localstripe) and the operator API (uvicorn) on loopback, in a scratch
   directory with its own API database and warehouse;
2. register the API's webhook with the emulator (signed with a fresh secret);
3. with the official SDK: a customer carrying `metadata.tenant_id`, a plan, and a subscription whose
   metadata names the Settld plan `growth`;
4. wait for the emulator's signed `customer.subscription.created` delivery to be accepted by the API;
5. build `dim_tenant_billing_plan` (dbt through Dagster) and read the tenant's current plan: it must be
   `growth`.
The release workflow runs it and blocks the release when it fails.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TENANT = "tnt_billing_smoke"
EXPECTED_PLAN = "growth"


@dataclass
class SmokeRun:
    steps: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step["ok"] for step in self.steps)

    def step(self, name: str, action: Callable[[], Any]) -> Any:
        started = time.monotonic()
        try:
            value = action()
        except Exception as error:  # noqa: BLE001 - a smoke test reports every failure as a failed step
            self.steps.append({"name": name, "ok": False, "seconds": round(time.monotonic() - started, 2),
                               "error": f"{type(error).__name__}: {error}"[:1000]})  # fmt: skip
            raise _Stop from error
        self.steps.append({"name": name, "ok": True, "seconds": round(time.monotonic() - started, 2)})
        return value

    def document(self) -> dict[str, Any]:
        return {"schemaVersion": "BillingSmokeStatus.v1", "ok": self.ok, "tenantId": TENANT,
                "expectedPlan": EXPECTED_PLAN, "steps": self.steps, **self.details}  # fmt: skip


class _Stop(Exception):
    pass


@contextmanager
def _serve_api(database_url: str, secret: str) -> Iterator[str]:
    import socket

    import uvicorn

    from api.core.settings import ApiSettings
    from api.main import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(ApiSettings(database_url=database_url, stripe_webhook_secret=secret))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _wait_for_subscription_event(database_url: str, timeout: float = 20.0) -> dict[str, Any]:
    from sqlalchemy import select

    from api.billing.models import StripeEvent
    from api.core.database import Database

    database = Database(database_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with database.session() as session:
                event = session.scalars(
                    select(StripeEvent).where(
                        StripeEvent.tenant_id == TENANT,
                        StripeEvent.event_type == "customer.subscription.created",
                    )
                ).first()
                if event is not None:
                    return {
                        "eventId": event.event_id,
                        "plan": event.plan,
                        "status": event.subscription_status,
                    }
            time.sleep(0.2)
    finally:
        database.dispose()
    raise TimeoutError(f"no customer.subscription.created for {TENANT} reached the API in {timeout:.0f} s")


def _warehouse_plan(workdir: Path, database_url: str) -> str | None:
    import dagster as dg
    import duckdb

    from orchestration.definitions import ASSETS, build_resources
    from orchestration.stages import transform_upstream
    from settld.cli.pipeline import QUIET_RUN_CONFIG
    from settld.settings import Settings

    warehouse = workdir / "warehouse.duckdb"
    settings = Settings(warehouse_url=str(warehouse), landing_dir=workdir, artifacts_dir=workdir / "artifacts",
                        api_database_url=database_url)  # fmt: skip
    keys = [dg.AssetKey(["staging", "stg_operator_api__stripe_events"]),
            dg.AssetKey(["marts", "dim_tenant_billing_plan"])]  # fmt: skip
    # dbt's own output goes to a log in the scratch directory; the smoke prints its steps.
    with (workdir / "dbt.log").open("w") as log, contextlib.redirect_stdout(log):
        result = dg.materialize(ASSETS, resources=build_resources(settings), raise_on_error=False,
                                selection=transform_upstream(*keys), run_config=QUIET_RUN_CONFIG)  # fmt: skip
    if not result.success:
        raise RuntimeError("dbt could not build dim_tenant_billing_plan")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute(
            "select plan from marts.dim_tenant_billing_plan where tenant_id = ? and is_current", [TENANT]
        ).fetchone()
    return row[0] if row else None


def run_billing_smoke(out: Path) -> dict[str, Any]:
    """Run the smoke; write its status document to `out` and return it."""
    import stripe

    from devtools.deploy import deploy_migrations
    from devtools.stripe_emulator import register_webhook, running_emulator

    run = SmokeRun()
    with tempfile.TemporaryDirectory(prefix="settld-smoke-") as scratch:
        workdir = Path(scratch)
        database_url = f"sqlite:///{workdir / 'api.sqlite3'}"
        secret = "whsec_smoke_" + secrets.token_hex(16)
        try:
            run.step("migrate the API database (the deploy step)", lambda: deploy_migrations(database_url))
            with running_emulator() as stripe_base, _serve_api(database_url, secret) as api_base:
                run.step("register the webhook with the emulator", lambda: register_webhook(
                    stripe_base, url=f"{api_base}/v1/webhooks/stripe", secret=secret))  # fmt: skip
                client = stripe.StripeClient("sk_test_smoke", base_addresses={"api": stripe_base},
                                             max_network_retries=2)  # fmt: skip

                def subscribe() -> str:
                    customer = client.v1.customers.create(params={"email": "smoke@settld.test",
                                                                  "metadata": {"tenant_id": TENANT}})  # fmt: skip
                    card = client.v1.payment_methods.create(params={"type": "card", "card": {
                        "number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})  # fmt: skip
                    client.v1.payment_methods.attach(card.id, params={"customer": customer.id})
                    client.v1.customers.update(customer.id, params={"invoice_settings": {
                        "default_payment_method": card.id}})  # fmt: skip
                    plan = client.v1.plans.create(params={"id": "settld-growth-monthly", "amount": 59900,
                                                          "currency": "usd", "interval": "month",
                                                          "product": {"name": "Settld growth"}})  # fmt: skip
                    subscription = client.v1.subscriptions.create(params={
                        "customer": customer.id, "items": [{"plan": plan.id}],
                        "metadata": {"tenant_id": TENANT, "plan": EXPECTED_PLAN}})  # fmt: skip
                    return subscription.id

                run.details["subscriptionId"] = run.step(
                    "create a growth subscription with the SDK", subscribe
                )
                run.details["event"] = run.step(
                    "the signed webhook reaches the API", lambda: _wait_for_subscription_event(database_url)
                )
            plan = run.step("build dim_tenant_billing_plan", lambda: _warehouse_plan(workdir, database_url))
            run.details["warehousePlan"] = plan

            def check() -> None:
                if plan != EXPECTED_PLAN:
                    raise AssertionError(f"the warehouse resolved plan {plan!r}, expected {EXPECTED_PLAN!r}")

            run.step("the warehouse resolves the new plan", check)
        except _Stop:
            pass
    document = run.document()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return document
