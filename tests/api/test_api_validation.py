"""Bad input is a 4xx problem document with a code (422 with field errors for bodies), never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.core.migrate import head_revision
from tests.api.factories import Factory, auth, mismatch_row

TRIAGE = "/ops/finance/reconciliation/triage"


@pytest.fixture
def key(factory: Factory) -> str:
    row = mismatch_row("acme", "payout_v")
    factory.publish([row])
    return row["triage_key"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "triage_key"]),
        ({"triage_key": "K", "status": "closed"}, ["body", "status"]),
        ({"triage_key": "K", "severity": "urgent"}, ["body", "severity"]),
        ({"triage_key": "K", "expected_revision": -1}, ["body", "expected_revision"]),
        ({"triage_key": "K", "expected_revision": "one"}, ["body", "expected_revision"]),
        ({"triage_key": "K", "action": "close"}, ["body", "action"]),
        ({"triage_key": "K", "ownerPrincipalId": "x"}, ["body", "ownerPrincipalId"]),
        ({"triage_key": "K", "notes": "a\x00b"}, ["body", "notes"]),
        ({"triage_key": "K", "owner": ""}, ["body", "owner"]),
        ({"triage_key": "bad key with spaces"}, ["body", "triage_key"]),
        ([1, 2], ["body"]),
    ],
)
def test_malformed_bodies_are_422_with_field_errors(
    client: TestClient, token: str, key: str, body: object, loc: list[str]
) -> None:
    if isinstance(body, dict) and body.get("triage_key") == "K":
        body = {**body, "triage_key": key}
    response = client.post(TRIAGE, json=body, headers=auth(token))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "VALIDATION_FAILED" and problem["status"] == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(error["loc"] == loc and error["msg"] for error in problem["errors"]), problem["errors"]


def test_invalid_json_is_422(client: TestClient, token: str) -> None:
    response = client.post(
        TRIAGE, content=b'{"triage_key": ', headers=auth(token, **{"Content-Type": "application/json"})
    )
    assert (response.status_code, response.json()["code"]) == (422, "VALIDATION_FAILED")
    assert response.json()["errors"][0]["type"] == "json_invalid"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/ops/finance/reconciliation/queue", {"limit": 0}),
        ("/ops/finance/reconciliation/queue", {"limit": 501}),
        ("/ops/finance/reconciliation/queue", {"offset": -1}),
        ("/ops/finance/reconciliation/queue", {"period": "2026-13"}),
        ("/ops/finance/reconciliation/queue", {"severity": "urgent"}),
        ("/ops/finance/reconciliation/queue", {"status": "closed"}),
        ("/ops/finance/reconciliation/queue", {"mismatch_type": "nope"}),
        ("/ops/finance/reconciliation/queue", {"include_cleared": "maybe"}),
        ("/ops/finance/reconciliation/queue", {"providerId": "stripe"}),
        (TRIAGE, {"limit": "ten"}),
        (TRIAGE, {"status": "bogus"}),
        ("/ops/audit", {"since": "yesterday"}),
        ("/ops/audit", {"since": "2026-10-01T00:00:00"}),  # no offset: refused, never guessed
        ("/ops/audit", {"until": "0001-01-01T00:00:00+01:00"}),
        ("/ops/audit", {"limit": 10_000}),
    ],
)
def test_invalid_query_values_are_422(client: TestClient, token: str, path: str, params: dict) -> None:
    response = client.get(path, params=params, headers=auth(token))
    assert (response.status_code, response.json()["code"]) == (422, "VALIDATION_FAILED"), response.text
    assert response.json()["errors"]


def test_request_id_is_echoed_or_generated(client: TestClient, token: str) -> None:
    supplied = client.get("/ops/audit", headers=auth(token, **{"X-Request-Id": "ops-123"}))
    assert supplied.headers["X-Request-Id"] == "ops-123"
    generated = client.get("/ops/audit", headers=auth(token, **{"X-Request-Id": "bad id\twith tab"}))
    assert generated.headers["X-Request-Id"].startswith("req_")
    problem = client.get("/ops/audit")
    assert problem.json()["request_id"] == problem.headers["X-Request-Id"]


def test_unknown_routes_and_methods_are_problems(client: TestClient) -> None:
    assert client.get("/nope").json()["code"] == "NOT_FOUND"
    response = client.delete("/ops/audit")
    assert (response.status_code, response.json()["code"]) == (405, "METHOD_NOT_ALLOWED")


def test_healthz_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"ok": True}
    assert client.get("/readyz").json() == {"ok": True, "database": "ok", "revision": head_revision()}
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "ApiKey" in spec["components"]["securitySchemes"]


def test_every_write_route_declares_idempotency_and_auth(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    writes = [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("post", "put", "patch", "delete")
    ]
    assert writes
    for method, path, operation in writes:
        if path == "/v1/webhooks/stripe":  # Stripe sends no key: signed, and idempotent by event id
            assert not operation.get("security")
            continue
        headers = {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}
        assert {"idempotency-key", "x-idempotency-key"} <= headers, (method, path)
        assert operation.get("security"), (method, path)
