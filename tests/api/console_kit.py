"""The console tests' shared world: one app per test module on a copy of the migrated SQLite template,
served by uvicorn on loopback, with tenant `acme`'s mismatches over three periods (2026-10 red, 2026-09
green and closable, 2026-08 for the chart) and tenant `rival`'s one mismatch (never shown to acme)."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

from api.arbitration.publish import publish_settlements
from api.core.database import utc_now
from api.core.settings import ApiSettings
from api.main import create_app
from api.onboarding.publish import publish_cohorts
from api.periods.service import record_verdict
from settld.core import iso_micro, period_bounds
from tests.api.arbitration_kit import settlement_row
from tests.api.conftest import _free_port
from tests.api.factories import Factory, mismatch_row

ROWS = [
    mismatch_row("acme", "po_101", period="2026-10", mismatch_type="amount_mismatch"),
    mismatch_row("acme", "po_102", period="2026-10", mismatch_type="missing_operation",
                 actual_amount_cents=None, amount_delta_cents=-10_000, operation_id=None, operation_count=0),
    mismatch_row("acme", "po_103", period="2026-10", mismatch_type="stale_in_flight", amount_delta_cents=0,
                 actual_amount_cents=10_000),
    mismatch_row("acme", "po_104", period="2026-10", mismatch_type="currency_mismatch", currency="EUR",
                 actual_currency="GBP", expected_amount_cents=20_000, actual_amount_cents=20_000,
                 amount_delta_cents=0, provider_id="wise"),
    mismatch_row("acme", "po_091", period="2026-09", mismatch_type="stale_in_flight"),
    mismatch_row("acme", "po_092", period="2026-09", mismatch_type="duplicate_expected"),
    mismatch_row("acme", "po_081", period="2026-08", mismatch_type="amount_mismatch"),
    mismatch_row("acme", "po_082", period="2026-08", mismatch_type="missing_operation"),
    mismatch_row("acme", "po_083", period="2026-08", mismatch_type="missing_operation"),
    mismatch_row("rival", "po_901", period="2026-10", mismatch_type="amount_mismatch"),
]  # fmt: skip


def cohort(label: str, step: str, order: int, tenants: int, reached: int) -> dict:
    return {"cohort_grain": "month", "cohort": label, "step": step, "step_order": order,
            "cohort_tenants": tenants, "reached_tenants": reached, "previous_reached_tenants": tenants,
            "conversion_bps": reached * 10_000 // tenants, "drop_off_bps": 10_000 - reached * 10_000 // tenants,
            "is_shareable": tenants >= 3, "median_seconds_to_first_settlement": None,
            "p90_seconds_to_first_settlement": None}  # fmt: skip


COHORTS = [
    cohort("2026-09", "signup", 1, 5, 5), cohort("2026-09", "api_key_created", 2, 5, 4),
    cohort("2026-09", "first_settlement_completed", 5, 5, 2),
    cohort("2026-10", "signup", 1, 4, 4), cohort("2026-10", "api_key_created", 2, 4, 3),
    cohort("2026-10", "first_settlement_completed", 5, 4, 1),
]  # fmt: skip


def verdict(tenant_id: str, period: str, *, ok: bool) -> dict:
    checks = [
        {"id": "dbt.tests_passed", "ok": True, "blocking": True, "details": {}},
        {"id": "reconciliation.tieout_explained", "ok": True, "blocking": True, "details": {}},
        {"id": "reconciliation.serious_mismatches_handled", "ok": ok, "blocking": True, "details": {}},
    ]
    failing = [check["id"] for check in checks if not check["ok"]]
    return {
        "tenantId": tenant_id, "period": period, "verdictHash": f"vh_{tenant_id}_{period}_{ok}",
        "asOf": iso_micro(period_bounds(period)[1] + timedelta(days=2)), "checks": checks,
        "verdict": {"ok": ok, "failingCheckIds": failing, "warningCheckIds": []},
        "inputs": {"landingFiles": [], "reconciliationReports": [], "invoiceDrafts": []},
    }  # fmt: skip


@dataclass
class World:
    base_url: str
    factory: Factory
    token: str  # acme: finance_read, finance_write, ops_read
    read_token: str  # acme: finance_read only
    rival_token: str
    platform_token: str  # ops_read, ops_write
    artifacts: Path
    now: list[datetime]  # the app's clock (arbitration's SLA ages), moved by a test

    def tick(self, delta: timedelta) -> datetime:
        self.now[0] += delta
        return self.now[0]

    def api(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {token or self.token}"}
        )

    def triage_key(self, tenant: str, mismatch_key: str) -> str:
        return next(row["triage_key"] for row in ROWS if row["tenant_id"] == tenant
                    and row["mismatch_key"] == mismatch_key)  # fmt: skip


def serve(app) -> Iterator[str]:  # noqa: ANN001
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@contextmanager
def console_world(sqlite_template: Path, root: Path) -> Iterator[World]:
    """The world on a copy of the migrated template in `root`; a test module keeps one (module fixture)."""
    shutil.copyfile(sqlite_template, root / "api.sqlite3")
    url = f"sqlite:///{root / 'api.sqlite3'}"
    factory = Factory(url)
    tokens = (factory.key("acme", "finance_read", "finance_write", "ops_read"), factory.key("acme", "finance_read"),
              factory.key("rival", "finance_read", "finance_write"))  # fmt: skip
    tokens = (*tokens, factory.platform_key("ops_read", "ops_write"))
    factory.publish(ROWS)
    publish_cohorts(url, COHORTS, published_at=utc_now())
    with factory.transaction() as session:
        record_verdict(session, verdict("acme", "2026-10", ok=False), now=utc_now())
        record_verdict(session, verdict("acme", "2026-09", ok=True), now=utc_now())
    app = create_app(ApiSettings(database_url=url, artifacts_dir=root / "artifacts"))
    now = [utc_now()]
    app.state.clock = lambda: now[0]
    for base_url in serve(app):
        yield World(base_url, factory, *tokens, artifacts=root / "artifacts", now=now)


def open_cases(world: World) -> list[str]:
    """Two arbitration cases of acme through the API: the first opened 45 hours ago (over its 24 h SLA),
    the second 20 hours ago (due within the last quarter: due soon); the clock stands at now."""
    resolved = world.now[0] - timedelta(days=3)
    publish_settlements(world.factory.database_url, [settlement_row("acme", n, resolved_at=resolved) for n in (1, 2)],
                        published_at=world.now[0])  # fmt: skip
    api, case_ids = world.api(), []
    for n, hours in ((1, 45), (2, 20)):
        world.tick(-timedelta(hours=hours))
        dispute = {"evidence_refs": ["ev:invoice-7", "ev:chat-1"]}
        assert api.post(f"/ops/settlements/setl_run_{n}/disputes", json=dispute).status_code == 201
        opened = api.post("/ops/arbitration/cases", json={"settlement_id": f"setl_run_{n}"})
        assert opened.status_code == 201, opened.text
        case_ids.append(opened.json()["case"]["case_id"])
        world.tick(timedelta(hours=hours))
    return case_ids


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def signed_in(world: World, token: str | None = None) -> httpx.Client:
    """An HTTP client holding a console session of `token` (default acme's full key)."""
    client = httpx.Client(base_url=world.base_url)
    form = client.get("/console/sign-in")
    answer = client.post(
        "/console/sign-in", data={"api_key": token or world.token, "csrf": csrf_of(form.text)}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/console", answer.text
    return client


POLICY = "acme.payouts"


def register_policy(world: World, token: str, policy_id: str, rules: dict, **extra: object) -> dict:
    tenant = "acme" if token == world.token else "rival"
    body = {"policy_id": policy_id, "policy": {"mode": "automatic", "rules": rules},
            "verification_method": {"mode": "deterministic"}, **extra}  # fmt: skip
    answer = world.api(token).post(f"/v1/tenants/{tenant}/settlement-policies", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["version"]


def seed_policies(world: World) -> None:
    """acme: v1 (active first), v2 promoted over it, v3 the canary at 25 %; rival: one version of its own."""
    register_policy(world, world.token, POLICY, {"green_release_rate_pct": 100, "amber_release_rate_pct": 50},
                    description="Release everything green")  # fmt: skip
    register_policy(world, world.token, POLICY, {"green_release_rate_pct": 90, "amber_release_rate_pct": 50,
                                                 "dispute_window_hours": 72}, description="Hold back 10 %")  # fmt: skip
    register_policy(world, world.token, POLICY, {"green_release_rate_pct": 80, "dispute_window_hours": 48,
                                                 "metering_pricing_evidence": {"required": True}},
                    description="Canary: 80 %, 48 h, metering evidence")  # fmt: skip
    register_policy(world, world.rival_token, "rival.secret-policy", {"green_release_rate_pct": 7})
    api, base = world.api(), "/v1/tenants/acme/settlement-policies"
    for move in ({"stage": "active", "policy_ref": {"policy_id": POLICY, "policy_version": 2}},
                 {"stage": "canary", "policy_ref": {"policy_id": POLICY, "policy_version": 3}, "rollout_percent": 25}):  # fmt: skip
        assert api.post(f"{base}/rollout", json=move).status_code == 200


def seed_market(world: World) -> dict[str, str]:
    """acme's listing (two revisions), an RFQ on it and three bids (out of amount order); rival's RFQ.
    Needs an active policy for the accept (seed_policies)."""
    api = world.api()
    listing = api.post("/v1/marketplace/listings", json={
        "listing_id": "lst_translate", "capability": "translate.de-en", "seller_agent_id": "agt_seller",
        "title": "German to English", "tags": ["language"],
        "price_model": {"mode": "fixed", "amount_cents": 5_000, "currency": "USD"}})  # fmt: skip
    assert listing.status_code == 201, listing.text
    patched = api.patch("/v1/marketplace/listings/lst_translate", headers={"If-Match": '"1"'},
                        json={"title": "German to English, reviewed", "tags": ["language", "reviewed"]})  # fmt: skip
    assert patched.status_code == 200, patched.text
    deadline = (world.now[0] + timedelta(days=7)).isoformat()
    rfq = api.post("/v1/marketplace/rfqs", json={
        "rfq_id": "rfq_manual", "listing_id": "lst_translate", "poster_agent_id": "agt_buyer",
        "budget_cents": 6_000, "currency": "USD", "deadline_at": deadline, "title": "Translate the manual"})  # fmt: skip
    assert rfq.status_code == 201, rfq.text
    for bidder, cents in (("agt_a", 5_500), ("agt_b", 4_200), ("agt_c", 4_800)):
        bid = api.post("/v1/marketplace/rfqs/rfq_manual/bids", json={
            "bid_id": f"bid_{bidder}", "bidder_agent_id": bidder, "amount_cents": cents, "currency": "USD",
            "eta_seconds": 86_400})  # fmt: skip
        assert bid.status_code == 201, bid.text
    rival = world.api(world.rival_token).post("/v1/marketplace/rfqs", json={
        "rfq_id": "rfq_rival_secret", "capability": "audit", "poster_agent_id": "agt_rival", "budget_cents": 100,
        "currency": "USD", "deadline_at": deadline})  # fmt: skip
    assert rival.status_code == 201, rival.text
    return {"listing_id": "lst_translate", "rfq_id": "rfq_manual"}
