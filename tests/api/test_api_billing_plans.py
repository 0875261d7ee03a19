"""The billing plan, subscription and usage summary routes: SCHEMA_INVALID with field paths, audit and
If-Match, a Stripe subscription event changing the plan, the reference's figures through the API (10,111;
59,901; one volume fee per currency), the hard limit's state, and a closed period's summary equal to its
finalised invoice line for line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.audit.models import AuditLogEntry
from api.billing.limits import meter_billable_work
from api.billing.usage import publish_usage
from api.core.database import Database
from api.core.settings import ApiSettings
from api.main import create_app
from tests.api.factories import URL, Factory, auth, event, invoice_rows, signed

PLAN, SUBSCRIPTION, SUMMARY = (
    "/ops/finance/billing/plan",
    "/ops/finance/billing/subscription",
    "/ops/finance/billing/summary",
)
KEY = 0


def put(client: TestClient, token: str, path: str, body: dict, **headers: str):  # noqa: ANN201
    global KEY
    KEY += 1
    return client.put(path, json=body, headers=auth(token, **{"Idempotency-Key": f"k{KEY}", **headers}))


def usage_rows(tenant_id: str, period: str, *, plan: str = "builder", runs: int = 0, cases: int = 0,
               volume: dict[str, int] | None = None) -> list[dict]:  # fmt: skip
    """marts.fct_billing_usage rows of one tenant's period, on the catalog's `plan`."""
    from api.billing.catalog import catalog

    terms = vars(catalog()[plan])
    base = {"tenant_id": tenant_id, "period": period, **{k: v for k, v in terms.items() if k != "currency"},
            "plan_currency": terms["currency"], "plan_source": "configured"}  # fmt: skip
    rows = [{**base, "usage_type": "verified_runs", "currency": "XXX", "quantity": runs},
            {**base, "usage_type": "arbitration_cases", "currency": "XXX", "quantity": cases}]  # fmt: skip
    return rows + [{**base, "usage_type": "settled_volume", "currency": c, "quantity": q}
                   for c, q in (volume or {}).items()]  # fmt: skip


def summary(client: TestClient, token: str, period: str) -> dict:
    response = client.get(SUMMARY, params={"period": period}, headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_plan_put_validates_audits_and_honours_if_match(
    client: TestClient, token: str, factory: Factory
) -> None:
    got = client.get(PLAN, headers=auth(token)).json()
    assert (got["plan"], got["plan_source"], got["hard_limit_enforced"]) == ("free", "default", True)
    bad = put(client, token, PLAN, {"plan": "platinum", "plan_overrides": {"settled_volume_fee_bps": 10_001,
                                                                          "discount": 1, "arbitration_case_fee_cents": -1}})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["code"] == "SCHEMA_INVALID"
    assert [e["loc"] for e in bad.json()["errors"]] == [
        ["body", "plan"], ["body", "plan_overrides", "settled_volume_fee_bps"],
        ["body", "plan_overrides", "discount"], ["body", "plan_overrides", "arbitration_case_fee_cents"]]  # fmt: skip
    revision = got["revision"]
    stale = put(client, token, PLAN, {"plan": "growth"}, **{"If-Match": f'"{revision + 5}"'})
    assert stale.status_code == 409 and stale.json()["code"] == "REVISION_CONFLICT"
    done = put(client, token, PLAN, {"plan": "builder", "plan_overrides": {"included_verified_runs": 5},
                                     "hard_limit_enforced": False}, **{"If-Match": f'"{revision}"'})  # fmt: skip
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["plan"], body["plan_source"], body["revision"]) == ("builder", "configured", revision + 1)
    assert body["terms"]["included_verified_runs"] == 5 and body["terms"]["subscription_cents"] == 9_900
    with Database(factory.database_url).session() as session:
        (audit,) = session.scalars(select(AuditLogEntry).where(AuditLogEntry.action == "BILLING_PLAN_UPSERT"))
    assert json.loads(audit.details_json)["plan_overrides"] == {"included_verified_runs": 5}


def test_a_subscription_event_and_a_put_set_the_billed_plan(
    client: TestClient, webhook_client: TestClient, token: str
) -> None:
    assert client.get(SUBSCRIPTION, headers=auth(token)).json() is None
    body = json.dumps(
        event(
            "evt_up",
            items={"object": "list", "data": [{"price": {"id": "price_g", "lookup_key": "growth_monthly"}}]},
        )
    )
    assert webhook_client.post(URL, content=body, headers=signed(body)).status_code == 200
    plan = client.get(PLAN, headers=auth(token)).json()
    assert (plan["plan"], plan["plan_source"], plan["configured_plan"]) == ("growth", "subscription", "free")
    subscription = client.get(SUBSCRIPTION, headers=auth(token)).json()
    assert (subscription["price_id"], subscription["last_event_id"], subscription["status"]) == (
        "price_g", "evt_up", "active")  # fmt: skip
    older = json.dumps({**event("evt_old", status="canceled"), "created": 1_700_000_000})
    webhook_client.post(URL, content=older, headers=signed(older))
    assert client.get(PLAN, headers=auth(token)).json()["plan"] == "growth"  # an older event never wins
    bad = put(client, token, SUBSCRIPTION, {"plan": "gold"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["loc"] == ["body", "plan"]
    ended = put(client, token, SUBSCRIPTION, {"status": "Canceled", "plan": "growth"},
                **{"If-Match": f'"{subscription["revision"]}"'})  # fmt: skip
    assert ended.status_code == 200 and ended.json()["status"] == "canceled"
    assert (
        client.get(PLAN, headers=auth(token)).json()["plan"] == "free"
    )  # an ended subscription bills nothing


@pytest.fixture
def november_client(database_url: str) -> Iterator[TestClient]:
    """A client of an app whose clock says 25 November 2026: November is the live month."""
    app = create_app(ApiSettings(database_url=database_url), clock=lambda: datetime(2026, 11, 25, tzinfo=UTC))
    with TestClient(app) as client:
        yield client


def test_the_reference_figures_through_the_summary(
    november_client: TestClient, token: str, factory: Factory
) -> None:
    client = november_client
    assert put(client, token, PLAN, {"plan": "builder"}).status_code == 200
    at = datetime(2026, 11, 10, tzinfo=UTC)
    publish_usage(factory.database_url, usage_rows("acme", "2026-11", volume={"USD": 1_500}), as_of=at)
    database = Database(factory.database_url)
    with database.transaction() as session:  # witnessed after the publish: on top of it
        meter_billable_work(session, tenant_id="acme", usage_type="verified_runs", quantity=1, source_ref="run_1",
                            now=datetime(2026, 11, 11, tzinfo=UTC))  # fmt: skip
        meter_billable_work(session, tenant_id="acme", usage_type="arbitration_cases", quantity=1,
                            source_ref="case_1", now=datetime(2026, 11, 12, tzinfo=UTC))  # fmt: skip
    builder = summary(client, token, "2026-11")
    assert builder["estimate"]["totals"] == [{"currency": "USD", "amount_cents": 10_111}]
    assert (builder["usage"]["verified_runs"], builder["usage"]["witnessed_verified_runs"]) == (1, 1)
    assert builder["enforcement"] == {"hard_limit_verified_runs_per_month": None, "hard_limit_enforced": True,
                                      "remaining_verified_runs": None, "would_block_next_run": False}  # fmt: skip

    publish_usage(factory.database_url, usage_rows("acme", "2026-11", plan="growth", runs=100_001,
                                                   volume={"USD": 1_000, "EUR": 3_000}),
                  as_of=datetime(2026, 11, 20, tzinfo=UTC))  # fmt: skip
    assert (
        put(
            client, token, PLAN, {"plan": "growth", "plan_overrides": {"settled_volume_fee_bps": 0}}
        ).status_code
        == 200
    )
    growth = summary(client, token, "2026-11")
    assert growth["usage"]["witnessed_verified_runs"] == 0  # handed over to the newer warehouse figures
    assert growth["estimate"]["totals"] == [{"currency": "EUR", "amount_cents": 0},
                                            {"currency": "USD", "amount_cents": 59_901}]  # fmt: skip
    assert put(client, token, PLAN, {"plan": "growth"}).status_code == 200
    lines = summary(client, token, "2026-11")["estimate"]["lines"]
    volume = [(line["currency"], line["quantity"], line["amount_cents"]) for line in lines
              if line["line_code"] == "SETTLED_VOLUME_FEE"]  # fmt: skip
    assert volume == [("EUR", 3_000, 13), ("USD", 1_000, 4)]  # one fee per currency, each rounded down
    database.dispose()


def test_the_summary_says_when_the_next_run_would_be_blocked(
    client: TestClient, token: str, factory: Factory
) -> None:
    assert (
        put(
            client, token, PLAN, {"plan": "free", "plan_overrides": {"hard_limit_verified_runs": 1}}
        ).status_code
        == 200
    )
    now = datetime.now(UTC)
    with Database(factory.database_url).transaction() as session:
        meter_billable_work(
            session, tenant_id="acme", usage_type="verified_runs", quantity=1, source_ref="r", now=now
        )
    enforcement = client.get(SUMMARY, headers=auth(token)).json()["enforcement"]  # default: the current month
    assert enforcement == {"hard_limit_verified_runs_per_month": 1, "hard_limit_enforced": True,
                           "remaining_verified_runs": 0, "would_block_next_run": True}  # fmt: skip
    assert put(client, token, PLAN, {"plan": "free", "plan_overrides": {"hard_limit_verified_runs": 1},
                                     "hard_limit_enforced": False}).status_code == 200  # fmt: skip
    relaxed = client.get(SUMMARY, headers=auth(token)).json()
    assert relaxed["enforcement"]["would_block_next_run"] is False and relaxed["usage"]["verified_runs"] == 1
    bad = client.get(SUMMARY, params={"period": "2026-13"}, headers=auth(token))
    assert bad.status_code == 400 and bad.json()["code"] == "BILLING_PERIOD_INVALID"


def test_a_closed_period_summary_is_its_finalised_invoice_line_for_line(
    closing_client: TestClient, factory: Factory, token: str, artifacts_dir: Path
) -> None:
    client, september = closing_client, invoice_rows("acme", "2026-09", runs=7)
    factory.publish_invoices(*september)
    publish_usage(factory.database_url, usage_rows("acme", "2026-09", runs=10_007, volume={"USD": 150_000}),
                  as_of=datetime(2026, 10, 1, 6, tzinfo=UTC))  # fmt: skip
    factory.green_verdict("acme", "2026-09", artifacts=artifacts_dir, invoices=september)
    assert client.post("/ops/finance/periods/2026-09/close", headers=auth(token)).status_code == 200
    assert put(client, token, PLAN, {"plan": "growth"}).status_code == 200  # today's plan: not September's
    invoice = client.get("/ops/finance/invoices/2026-09/USD", headers=auth(token)).json()
    assert invoice["status"] == "finalized"
    closed = summary(client, token, "2026-09")
    assert (closed["plan"], closed["plan_source"]) == ("builder", "warehouse")
    billed = [(line["line_type"], line["quantity"], line["unit_amount_cents"], line["unit_amount_milli_cents"],
               line["unit_amount_bps"], line["amount_cents"]) for line in invoice["lines"]]  # fmt: skip
    estimated = [(line["line_code"], line["quantity"], line["unit_amount_cents"], line["unit_amount_milli_cents"],
                  line["unit_amount_bps"], line["amount_cents"]) for line in closed["estimate"]["lines"]]  # fmt: skip
    assert estimated == billed and closed["estimate"]["totals"] == [
        {"currency": "USD", "amount_cents": invoice["subtotal_cents"]}]  # fmt: skip


def test_a_subscription_event_with_odd_fields_still_applies(
    client: TestClient, webhook_client: TestClient, token: str
) -> None:
    odd = event("evt_odd", items={"data": [{"price": "price_as_text"}]}, current_period_end=10**30,
                metadata={"tenant_id": "acme", "plan": "builder"})  # fmt: skip
    body = json.dumps(odd)
    assert webhook_client.post(URL, content=body, headers=signed(body)).status_code == 200
    subscription = client.get(SUBSCRIPTION, headers=auth(token)).json()
    assert (subscription["plan"], subscription["price_id"], subscription["current_period_end"]) == (
        "builder",
        None,
        None,
    )
    naive = put(client, token, SUBSCRIPTION, {"current_period_start": "2026-11-01T00:00:00"})
    assert naive.status_code == 422
