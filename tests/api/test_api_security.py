"""Every route: 401 without, with a malformed or with a revoked key; 403 with the wrong scope; tenant confinement."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.factories import Factory, auth, invoice_rows, mismatch_row

OTHER = mismatch_row("globex", "globex_payout", mismatch_type="missing_operation")
MINE = mismatch_row("acme", "acme_payout")
TRIAGE = "/ops/finance/reconciliation/triage"
ONBOARDING = "/v1/tenants/acme/onboarding"

# Disputes and arbitration (api/arbitration): nothing is published here, so past the scopes each is a 404.
SETTLEMENT, CASE = "/ops/settlements/setl_sec", "/ops/arbitration/cases/case_sec"
DISPUTE, ARBITRATION_READ, ARBITRATION_WRITE = (
    f"{SETTLEMENT}/disputes/dsp_sec",
    ("ops_write",),
    ("finance_read", "ops_read"),
)
ARBITRATION_ROUTES = [
    ("POST", f"{SETTLEMENT}/disputes", {}, ARBITRATION_WRITE),
    ("GET", DISPUTE, None, ARBITRATION_READ),
    ("POST", f"{DISPUTE}/evidence", {"evidence_refs": ["ev:1"]}, ARBITRATION_WRITE),
    ("POST", f"{DISPUTE}/escalate", {"escalation_level": "l2_arbiter"}, ARBITRATION_WRITE),
    ("POST", f"{DISPUTE}/close", {"outcome": "accepted"}, ARBITRATION_WRITE),
    ("GET", "/ops/arbitration/queue", None, ARBITRATION_READ),
    ("POST", "/ops/arbitration/cases", {"settlement_id": "setl_sec"}, ARBITRATION_WRITE),
    ("GET", CASE, None, ARBITRATION_READ),
    ("GET", f"{CASE}/workspace", None, ARBITRATION_READ),
    ("POST", f"{CASE}/assign", {"arbiter_agent_id": "agt_a"}, ARBITRATION_WRITE),
    ("POST", f"{CASE}/evidence", {"evidence_refs": ["ev:1"]}, ARBITRATION_WRITE),
    (
        "POST",
        f"{CASE}/verdict",
        {"outcome": "accepted", "release_rate_pct": 100, "rationale": "r"},
        ARBITRATION_WRITE,
    ),
    ("POST", f"{CASE}/close", {}, ARBITRATION_WRITE),
    ("POST", f"{CASE}/appeal", {"reason": "r"}, ARBITRATION_WRITE),
]
ARBITRATION_404 = {
    (method, path): (404, "SETTLEMENT_NOT_FOUND" if path.startswith(SETTLEMENT) and not path.startswith(DISPUTE)
                     or path == "/ops/arbitration/cases" else
                     "DISPUTE_NOT_FOUND" if path.startswith(DISPUTE) else "ARBITRATION_CASE_NOT_FOUND")
    for method, path, *_ in ARBITRATION_ROUTES if path != "/ops/arbitration/queue"
}  # fmt: skip

# Marketplace (api/marketplace), settlement policies (api/policies) and billing plans (api/billing): nothing of
# these exists for acme here, so past the scopes a route on a record is a 404 and a write a refusal of its own.
MARKET, POLICIES, BILLING = "/v1/marketplace", "/v1/tenants/acme/settlement-policies", "/ops/finance/billing"
LISTING, RFQ = f"{MARKET}/listings/lst_sec", f"{MARKET}/rfqs/rfq_sec"
MARKET_READ, MARKET_WRITE = ("ops_write",), ("finance_read", "ops_read")
NEW_DOMAIN_ROUTES = [
    ("POST", f"{MARKET}/listings", {}, MARKET_WRITE),
    ("GET", f"{MARKET}/listings", None, MARKET_READ),
    ("GET", LISTING, None, MARKET_READ),
    ("PATCH", LISTING, {"title": "t"}, MARKET_WRITE),
    ("DELETE", LISTING, None, MARKET_WRITE),
    ("GET", f"{LISTING}/revisions", None, MARKET_READ),
    ("POST", f"{MARKET}/rfqs", {}, MARKET_WRITE),
    ("GET", f"{MARKET}/rfqs", None, MARKET_READ),
    ("GET", RFQ, None, MARKET_READ),
    ("POST", f"{RFQ}/bids", {}, MARKET_WRITE),
    ("GET", f"{RFQ}/bids", None, MARKET_READ),
    ("GET", f"{RFQ}/bids/bid_sec/counter-offers", None, MARKET_READ),
    ("POST", f"{RFQ}/bids/bid_sec/counter-offers", {}, MARKET_WRITE),
    ("POST", f"{RFQ}/accept", {"bid_id": "bid_sec"}, MARKET_WRITE),
    ("GET", f"{MARKET}/agreements/agr_sec", None, MARKET_READ),
    ("POST", POLICIES, {}, MARKET_WRITE),
    ("GET", POLICIES, None, MARKET_READ),
    ("POST", f"{POLICIES}/presets/apply", {}, MARKET_WRITE),
    ("GET", f"{POLICIES}/state", None, MARKET_READ),
    ("GET", f"{POLICIES}/diff", None, MARKET_READ),
    ("GET", f"{POLICIES}/pol_sec/1", None, MARKET_READ),
    ("POST", f"{POLICIES}/rollout", {}, MARKET_WRITE),
    ("POST", f"{POLICIES}/rollback", {}, MARKET_WRITE),
    ("POST", f"{POLICIES}/resolve", {"run_id": "run_sec"}, MARKET_WRITE),
    ("GET", f"{BILLING}/plan", None, ("finance_write", "ops_read", "ops_write")),
    ("PUT", f"{BILLING}/plan", {}, ("finance_read", "ops_read", "ops_write")),
    ("GET", f"{BILLING}/subscription", None, ("finance_write", "ops_read", "ops_write")),
    ("PUT", f"{BILLING}/subscription", {}, ("finance_read", "ops_read", "ops_write")),
    ("GET", f"{BILLING}/summary", None, ("finance_write", "ops_read", "ops_write")),
    ("POST", f"{BILLING}/providers/stripe/checkout", {}, ("finance_read", "ops_read", "ops_write")),
    ("POST", f"{BILLING}/providers/stripe/portal", {}, ("finance_read", "ops_read", "ops_write")),
]

VALIDATION = (422, "VALIDATION_FAILED")  # an empty body, refused only after the key and its scopes are
NEW_DOMAIN_STATUS = {
    ("POST", f"{MARKET}/listings"): VALIDATION,
    **{(m, p): (404, "LISTING_NOT_FOUND") for m, p in
       (("GET", LISTING), ("PATCH", LISTING), ("DELETE", LISTING), ("GET", f"{LISTING}/revisions"))},
    ("POST", f"{MARKET}/rfqs"): VALIDATION,
    ("POST", f"{RFQ}/bids"): VALIDATION,
    **{(m, p): (404, "RFQ_NOT_FOUND") for m, p in (("GET", RFQ), ("GET", f"{RFQ}/bids"), ("POST", f"{RFQ}/accept"))},
    ("GET", f"{RFQ}/bids/bid_sec/counter-offers"): (404, "BID_NOT_FOUND"),
    ("POST", f"{RFQ}/bids/bid_sec/counter-offers"): VALIDATION,
    ("GET", f"{MARKET}/agreements/agr_sec"): (404, "AGREEMENT_NOT_FOUND"),
    ("POST", POLICIES): VALIDATION,
    ("GET", f"{POLICIES}/pol_sec/1"): (404, "POLICY_NOT_FOUND"),
    ("POST", f"{POLICIES}/presets/apply"): VALIDATION,
    ("POST", f"{POLICIES}/rollout"): VALIDATION,
    ("POST", f"{POLICIES}/rollback"): (409, "ACTIVE_POLICY_NOT_SET"),
    ("GET", f"{POLICIES}/diff"): (409, "DIFF_POLICY_REFERENCE_REQUIRED"),
    ("POST", f"{POLICIES}/resolve"): (409, "ACTIVE_POLICY_NOT_SET"),
    ("PUT", f"{BILLING}/plan"): VALIDATION,
    ("POST", f"{BILLING}/providers/stripe/checkout"): VALIDATION,
    ("POST", f"{BILLING}/providers/stripe/portal"): (400, "BILLING_CUSTOMER_REQUIRED"),
}  # fmt: skip

# (method, path, json body, a key's scopes that do NOT grant the route)
ROUTES = [
    ("GET", "/ops/finance/reconciliation/queue", None, ("finance_write", "ops_read", "ops_write")),
    ("GET", TRIAGE, None, ("finance_write", "ops_read")),
    ("GET", f"{TRIAGE}/{MINE['triage_key']}", None, ("finance_write", "ops_write")),
    (
        "POST",
        TRIAGE,
        {"triage_key": MINE["triage_key"], "status": "acknowledged"},
        ("finance_read", "ops_write"),
    ),
    ("GET", "/ops/audit", None, ("finance_write", "ops_write")),
    ("GET", "/ops/finance/periods/2026-10", None, ("finance_write", "ops_read", "ops_write")),
    ("POST", "/ops/finance/periods/2026-10/close", None, ("finance_read", "ops_write")),
    ("POST", "/ops/finance/periods/2026-10/reopen", {"reason": "late data"}, ("finance_read", "ops_write")),
    ("GET", "/ops/finance/invoices", None, ("finance_write", "ops_read", "ops_write")),
    ("GET", "/ops/finance/invoices/2026-10/USD", None, ("finance_write", "ops_read", "ops_write")),
    (
        "POST",
        f"{ONBOARDING}/events",
        {"event_type": "wizard_viewed"},
        ("finance_read", "finance_write", "ops_read"),
    ),
    ("GET", f"{ONBOARDING}/checklist", None, ("finance_read", "finance_write", "ops_write")),
    *ARBITRATION_ROUTES,
    *NEW_DOMAIN_ROUTES,
]
# Platform routes: a platform key with these scopes passes; a tenant key, whatever its scopes, is 403.
PLATFORM_ROUTES = [
    ("POST", "/ops/tenants/bootstrap", {"tenant_id": "newco"}, "ops_write", 201),
    ("GET", "/ops/tenants/acme", None, "ops_read", 200),
    ("GET", "/ops/tenants/acme/keys", None, "ops_read", 200),
    ("POST", "/ops/tenants/acme/keys", {"scopes": ["ops_read"]}, "ops_write", 201),
    ("GET", "/ops/onboarding/cohorts", None, "ops_read", 200),
]
# Public: liveness, readiness, and the Stripe webhook (trusts only a valid Stripe-Signature; see its own tests).
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("POST", "/v1/webhooks/stripe")}
# Past authentication, a route may still refuse for its own reason (no gate verdict, nothing to reopen).
AUTHORIZED_STATUS = {
    ("POST", "/ops/finance/periods/2026-10/close"): (409, "PERIOD_GATE_FAILED"),
    ("POST", "/ops/finance/periods/2026-10/reopen"): (404, "PERIOD_NOT_CLOSED"),
    ("GET", "/ops/finance/invoices/2026-10/USD"): (404, "INVOICE_NOT_FOUND"),  # globex's, not acme's
    **ARBITRATION_404,
    **NEW_DOMAIN_STATUS,
}


@pytest.fixture
def published(factory: Factory, client: TestClient) -> None:
    factory.publish([OTHER, MINE])
    factory.publish_invoices(*invoice_rows("globex", "2026-10"))
    globex = factory.key("globex", "finance_read", "finance_write", "ops_read")
    response = client.post(
        TRIAGE,
        json={"triage_key": OTHER["triage_key"], "status": "in_progress", "owner": "globex-secret-owner"},
        headers=auth(globex),
    )
    assert response.status_code == 200
    acme = factory.key("acme", "finance_write")
    mine = client.post(
        TRIAGE, json={"triage_key": MINE["triage_key"], "owner": "acme-owner"}, headers=auth(acme)
    )
    assert mine.status_code == 200


def test_the_table_covers_every_route(app: FastAPI) -> None:
    declared = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    covered = {
        (
            method,
            path.replace(MINE["triage_key"], "{triage_key}")
            .replace("2026-10", "{period}")
            .replace("USD", "{currency}")
            .replace("/tenants/acme", "/tenants/{tenant_id}")
            .replace("setl_sec", "{settlement_id}")
            .replace("dsp_sec", "{dispute_id}")
            .replace("case_sec", "{case_id}")
            .replace("lst_sec", "{listing_id}")
            .replace("rfq_sec", "{rfq_id}")
            .replace("bid_sec", "{bid_id}")
            .replace("agr_sec", "{agreement_id}")
            .replace("pol_sec/1", "{policy_id}/{policy_version}"),
        )
        for method, path, *_ in ROUTES + PLATFORM_ROUTES
    }
    key_paths = {("POST", "/ops/tenants/{tenant_id}/keys/{key_id}/revoke"),
                 ("POST", "/ops/tenants/{tenant_id}/keys/{key_id}/rotate")}  # fmt: skip
    assert declared == covered | key_paths | PUBLIC


@pytest.mark.parametrize(("method", "path", "body", "wrong_scopes"), ROUTES)
def test_auth_and_scopes(
    client: TestClient,
    factory: Factory,
    published: None,
    method: str,
    path: str,
    body: dict | None,
    wrong_scopes: tuple,
) -> None:
    def call(headers: dict[str, str]):
        return client.request(method, path, json=body, headers=headers)

    missing = call({})
    assert (missing.status_code, missing.json()["code"]) == (401, "AUTH_REQUIRED")
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    for bad in ("sk_nope", "Basic abc", "sk_0123456789abcdef0123." + "a" * 43):
        response = call({"Authorization": bad if bad.startswith("Basic") else f"Bearer {bad}"})
        assert response.status_code == 401 and response.json()["code"] in ("AUTH_REQUIRED", "AUTH_INVALID")

    valid = factory.key("acme", "finance_read", "finance_write", "ops_read", "ops_write")
    tampered = valid[:-4] + ("aaaa" if not valid.endswith("aaaa") else "bbbb")
    assert call(auth(tampered)).json()["code"] == "AUTH_INVALID"

    revoked = factory.key("acme", "finance_read", "finance_write", "ops_read")
    factory.revoke(revoked)
    response = call(auth(revoked))
    assert (response.status_code, response.json()["code"]) == (401, "AUTH_KEY_REVOKED")

    wrong = factory.key("acme", *wrong_scopes)
    response = call(auth(wrong))
    assert (response.status_code, response.json()["code"]) == (403, "SCOPE_FORBIDDEN")

    response = call(auth(valid))
    expected = AUTHORIZED_STATUS.get((method, path))
    if expected is None:
        assert response.status_code == 200, response.text
    else:
        assert (response.status_code, response.json()["code"]) == expected


def test_another_tenants_records_are_invisible(client: TestClient, token: str, published: None) -> None:
    secrets = ("globex", OTHER["triage_key"], "globex-secret-owner")
    responses = [
        client.get(
            "/ops/finance/reconciliation/queue", headers=auth(token), params={"include_cleared": True}
        ),
        client.get(TRIAGE, headers=auth(token)),
        client.get(f"{TRIAGE}/{OTHER['triage_key']}", headers=auth(token)),
        client.post(
            TRIAGE,
            json={"triage_key": OTHER["triage_key"], "status": "resolved", "resolution": "x"},
            headers=auth(token),
        ),
        client.get("/ops/audit", headers=auth(token)),
        client.get("/ops/audit", headers=auth(token), params={"target_id": OTHER["triage_key"]}),
        client.get("/ops/finance/invoices", headers=auth(token)),
        client.get("/ops/finance/invoices/2026-10/USD", headers=auth(token)),
    ]
    for response in responses:
        assert response.status_code in (200, 404), response.text
        # A 404 may echo the key the caller sent; nothing else of the other tenant may appear.
        body = response.text
        for secret in secrets if response.status_code == 200 else (secrets[0], secrets[2]):
            assert secret not in body
    assert responses[2].json()["code"] == "TRIAGE_NOT_FOUND"
    assert responses[3].json()["code"] == "MISMATCH_NOT_FOUND"
    assert [item["triage_key"] for item in responses[0].json()["items"]] == [MINE["triage_key"]]
    assert [item["triage_key"] for item in responses[1].json()["items"]] == [MINE["triage_key"]]
    assert responses[5].json()["count"] == 0
    assert responses[6].json()["count"] == 0 and responses[7].json()["code"] == "INVOICE_NOT_FOUND"


def test_a_write_attempt_leaves_the_other_tenants_record_untouched(
    client: TestClient, token: str, factory: Factory, published: None
) -> None:
    client.post(TRIAGE, json={"triage_key": OTHER["triage_key"], "owner": "intruder"}, headers=auth(token))
    globex = factory.key("globex", "finance_read")
    record = client.get(f"{TRIAGE}/{OTHER['triage_key']}", headers=auth(globex)).json()["triage"]
    assert (record["owner"], record["revision"]) == ("globex-secret-owner", 1)


@pytest.mark.parametrize(("method", "path", "body", "scope", "status"), PLATFORM_ROUTES)
def test_platform_routes_refuse_tenant_keys(
    client: TestClient, factory: Factory, method: str, path: str, body: dict | None, scope: str, status: int
) -> None:
    def call(token: str | None):
        return client.request(method, path, json=body, headers=auth(token) if token else {})

    factory.tenant("acme")
    assert call(None).json()["code"] == "AUTH_REQUIRED"
    tenant_key = factory.key("acme", "finance_read", "finance_write", "ops_read", "ops_write")
    assert (call(tenant_key).status_code, call(tenant_key).json()["code"]) == (403, "PLATFORM_KEY_REQUIRED")
    other_scope = "ops_read" if scope == "ops_write" else "ops_write"
    assert call(factory.platform_key(other_scope)).json()["code"] == "SCOPE_FORBIDDEN"
    assert call(factory.platform_key(scope)).status_code == status
