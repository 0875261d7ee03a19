"""`settld smoke billing`: a subscription change driven end to end, from the Stripe emulator to the warehouse.

Steps, each timed and recorded in `artifacts/billing-smoke-status.json`:
1. start the Stripe emulator (localstripe) and the operator API (uvicorn) on loopback, in a scratch
   directory with its own API database and warehouse;
2. register the API's webhook with the emulator (signed with a fresh secret);
3. the API's health, then with the official SDK a customer carrying `metadata.tenant_id`; through the
   API a live checkout of the growth plan and a customer-portal session (the emulator serves both);
4. a plan and a subscription whose metadata names the Settld plan `growth`; wait for the emulator's
   signed `customer.subscription.created` delivery to be accepted by the API, whose plan route must then
   say growth, and read the tenant's usage summary;
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
PLAN_PRICE = "settld-growth-monthly"  # the emulator's plan id, configured as the growth price


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


def _tenant_key(database_url: str) -> str:
    from api.core.database import Database
    from api.tenants.service import create_key, ensure_tenant

    database = Database(database_url)
    try:
        with database.transaction() as session:
            ensure_tenant(session, tenant_id=TENANT)
            return create_key(session, tenant_id=TENANT, scopes=("finance_read", "finance_write")).token
    finally:
        database.dispose()


@dataclass
class BillingApi:
    """The billing routes as a tenant calls them (each write with its own Idempotency-Key)."""

    base: str
    token: str

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, expect: int = 200) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": secrets.token_hex(8)}
        response = httpx.request(method, self.base + path, json=body, headers=headers, timeout=30)
        if response.status_code != expect:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json()

    def health(self) -> None:
        self._call("GET", "/healthz")

    def checkout(self, customer_id: str) -> dict[str, Any]:
        body = {"plan": EXPECTED_PLAN, "customer_id": customer_id, "success_url": "https://settld.test/ok",
                "cancel_url": "https://settld.test/cancel"}  # fmt: skip
        session = self._call("POST", "/ops/finance/billing/providers/stripe/checkout", body, expect=201)
        if (session["mode"], session["price_id"]) != ("live", PLAN_PRICE):
            raise AssertionError(f"checkout was not live on the growth price: {session}")
        return {"sessionId": session["session_id"], "mode": session["mode"]}

    def portal(self, customer_id: str) -> None:
        self._call("POST", "/ops/finance/billing/providers/stripe/portal", {"customer_id": customer_id}, 201)

    def plan_is_growth(self) -> str:
        plan = self._call("GET", "/ops/finance/billing/plan")
        if plan["plan"] != EXPECTED_PLAN:
            raise AssertionError(f"the API bills {plan['plan']!r} ({plan['plan_source']}), expected growth")
        return plan["plan"]

    def summary(self) -> dict[str, Any]:
        summary = self._call("GET", "/ops/finance/billing/summary")
        return {"period": summary["period"], "plan": summary["plan"], "totals": summary["estimate"]["totals"]}


@contextmanager
def _serve_api(database_url: str, secret: str, **settings: Any) -> Iterator[str]:
    import socket

    import uvicorn

    from api.core.settings import ApiSettings
    from api.main import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(ApiSettings(database_url=database_url, stripe_webhook_secret=secret, **settings))
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
            token = run.step("create the tenant and its finance key", lambda: _tenant_key(database_url))
            with running_emulator() as stripe_base, _serve_api(
                database_url, secret, stripe_api_key="sk_test_smoke", stripe_api_base=stripe_base,
                stripe_prices={EXPECTED_PLAN: PLAN_PRICE},
            ) as api_base:  # fmt: skip
                api = BillingApi(api_base, token)
                run.step("the API is healthy", api.health)
                run.step("register the webhook with the emulator", lambda: register_webhook(
                    stripe_base, url=f"{api_base}/v1/webhooks/stripe", secret=secret))  # fmt: skip
                client = stripe.StripeClient("sk_test_smoke", base_addresses={"api": stripe_base},
                                             max_network_retries=2)  # fmt: skip
                customer = run.step("create the tenant's Stripe customer", lambda: client.v1.customers.create(
                    params={"email": "smoke@settld.test", "metadata": {"tenant_id": TENANT}}))  # fmt: skip
                run.details["checkout"] = run.step("checkout of the growth plan (live, through the SDK)",
                                                   lambda: api.checkout(customer.id))  # fmt: skip
                run.step("a customer-portal session", lambda: api.portal(customer.id))

                def subscribe() -> str:
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
                run.details["apiPlan"] = run.step("the API bills the new plan", api.plan_is_growth)
                run.details["summary"] = run.step("the usage summary answers", api.summary)
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
