"""api.billing.limits.meter_billable_work: witnessed usage, the hard limit under the tenant's lock (exactly
one of two concurrent runs at the limit is admitted), the audited refusal that writes nothing else, and
arbitration's case opening metering its case."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from api.arbitration.models import ArbitrationCase
from api.arbitration.publish import publish_settlements
from api.audit.models import AuditLogEntry
from api.billing.limits import REFUSAL_ACTION, live_count, meter_billable_work
from api.billing.models import NO_CURRENCY, BillingUsagePublished, BillingUsageWitnessed
from api.billing.problems import PlanLimitExceeded
from api.core.database import Database
from api.tenants.models import Tenant
from settld.core import canonical_json
from tests.api.arbitration_kit import settlement_row
from tests.api.factories import Factory, auth

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def capped(factory: Factory, tenant_id: str, limit: int, *, enforced: bool = True) -> None:
    factory.tenant(tenant_id)
    with factory.transaction() as session:
        tenant = session.get(Tenant, tenant_id)
        tenant.billing_plan, tenant.billing_hard_limit_enforced = "free", enforced
        tenant.billing_plan_overrides = canonical_json({"hard_limit_verified_runs": limit})


def meter(factory: Factory, tenant_id: str, run_id: str, *, at: datetime = NOW, quantity: int = 1) -> None:
    with factory.transaction() as session:
        meter_billable_work(session, tenant_id=tenant_id, usage_type="verified_runs", quantity=quantity,
                            source_ref=run_id, now=at)  # fmt: skip


def used(factory: Factory, tenant_id: str, period: str = "2026-11") -> int:
    with factory.transaction() as session:
        return live_count(session, tenant_id=tenant_id, period=period, usage_type="verified_runs")


def refusals(factory: Factory, tenant_id: str) -> list[AuditLogEntry]:
    with factory.transaction() as session:
        return list(session.scalars(select(AuditLogEntry).where(
            AuditLogEntry.tenant_id == tenant_id, AuditLogEntry.action == REFUSAL_ACTION)))  # fmt: skip


def witnessed_rows(factory: Factory, tenant_id: str) -> int:
    with factory.transaction() as session:
        return session.scalar(select(func.count()).select_from(BillingUsageWitnessed).where(
            BillingUsageWitnessed.tenant_id == tenant_id))  # fmt: skip


def test_metering_is_once_per_source_and_the_limit_refuses_with_details(factory: Factory) -> None:
    capped(factory, "acme", 2)
    meter(factory, "acme", "run_1")
    meter(factory, "acme", "run_1")  # the same work again: metered once
    meter(factory, "acme", "run_2")
    assert used(factory, "acme") == 2
    with pytest.raises(PlanLimitExceeded) as refused:
        meter(factory, "acme", "run_3")
    assert refused.value.status == 402 and refused.value.extra == {
        "period": "2026-11", "plan": "free", "hard_limit_verified_runs_per_month": 2, "used_verified_runs": 2,
        "attempted_quantity": 1, "projected_verified_runs": 3,
    }  # fmt: skip
    assert witnessed_rows(factory, "acme") == 2  # the refusal wrote nothing but its audit row
    (audit,) = refusals(factory, "acme")
    assert '"source_ref":"run_3"' in audit.details_json and audit.at == NOW
    meter(factory, "acme", "run_2")  # already metered work is not new work: no refusal
    meter(factory, "acme", "run_4", at=NOW + timedelta(days=11))  # December starts afresh
    assert used(factory, "acme", "2026-12") == 1


def test_enforcement_off_meters_past_the_limit(factory: Factory) -> None:
    capped(factory, "acme", 1, enforced=False)
    for run in ("run_1", "run_2", "run_3"):
        meter(factory, "acme", run)
    assert used(factory, "acme") == 3 and refusals(factory, "acme") == []


def test_published_figures_plus_what_was_witnessed_after_them(factory: Factory) -> None:
    capped(factory, "acme", 5)
    meter(factory, "acme", "run_before", at=NOW - timedelta(hours=2))  # inside the published figures
    with factory.transaction() as session:
        session.add(BillingUsagePublished(tenant_id="acme", period="2026-11", usage_type="verified_runs",
                                          currency=NO_CURRENCY, quantity=4, as_of=NOW - timedelta(hours=1),
                                          published_at=NOW - timedelta(minutes=30)))  # fmt: skip
    meter(factory, "acme", "run_after")
    assert used(factory, "acme") == 5
    with pytest.raises(PlanLimitExceeded) as refused:
        meter(factory, "acme", "run_next")
    assert refused.value.extra["used_verified_runs"] == 5


def test_two_concurrent_runs_at_the_limit_admit_exactly_one(factory: Factory) -> None:
    capped(factory, "acme", 3)
    meter(factory, "acme", "run_1")
    meter(factory, "acme", "run_2")
    databases = [Database(factory.database_url) for _ in range(2)]
    barrier, outcomes = threading.Barrier(2), []

    def accept(database: Database, run_id: str) -> None:
        barrier.wait()
        try:
            with database.transaction() as session:
                meter_billable_work(session, tenant_id="acme", usage_type="verified_runs", quantity=1,
                                    source_ref=run_id, now=NOW)  # fmt: skip
            outcomes.append("admitted")
        except PlanLimitExceeded:
            outcomes.append("refused")

    try:
        threads = [threading.Thread(target=accept, args=(db, f"run_c{n}")) for n, db in enumerate(databases)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for database in databases:
            database.dispose()
    assert sorted(outcomes) == ["admitted", "refused"]
    assert used(factory, "acme") == 3 and len(refusals(factory, "acme")) == 1


def test_opening_an_arbitration_case_meters_it(client, factory: Factory, token: str) -> None:  # noqa: ANN001
    now = datetime.now(UTC)
    publish_settlements(factory.database_url, [settlement_row("acme", 1, resolved_at=now - timedelta(days=1))],
                        published_at=now)  # fmt: skip
    assert client.post("/ops/settlements/setl_run_1/disputes", json={}, headers=auth(token)).status_code == 201
    opened = client.post("/ops/arbitration/cases", headers=auth(token),
                         json={"settlement_id": "setl_run_1", "arbiter_agent_id": "agt_arb"})  # fmt: skip
    assert opened.status_code == 201, opened.text
    with factory.transaction() as session:
        (row,) = session.scalars(select(BillingUsageWitnessed).where(BillingUsageWitnessed.tenant_id == "acme"))
    assert (row.usage_type, row.source_ref, row.quantity) == (
        "arbitration_cases", opened.json()["case"]["case_id"], 1)


def test_a_case_past_the_limit_is_refused_and_changes_nothing(client, factory: Factory, token: str) -> None:  # noqa: ANN001
    capped(factory, "acme", 1)
    now = datetime.now(UTC)
    meter(factory, "acme", "run_used", at=now)  # the month's one run
    publish_settlements(factory.database_url, [settlement_row("acme", 1, resolved_at=now - timedelta(days=1))],
                        published_at=now)  # fmt: skip
    assert client.post("/ops/settlements/setl_run_1/disputes", json={}, headers=auth(token)).status_code == 201
    refused = client.post("/ops/arbitration/cases", headers=auth(token),
                          json={"settlement_id": "setl_run_1", "arbiter_agent_id": "agt_arb"})  # fmt: skip
    assert refused.status_code == 402, refused.text
    body = refused.json()
    assert body["code"] == "BILLING_PLAN_LIMIT_EXCEEDED" and (body["used_verified_runs"],
        body["attempted_quantity"], body["projected_verified_runs"]) == (1, 1, 2)  # fmt: skip
    with factory.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ArbitrationCase)) == 0
    assert witnessed_rows(factory, "acme") == 1
    (audit,) = refusals(factory, "acme")
    assert audit.request_id == refused.headers["x-request-id"] and audit.actor_key_id is not None
