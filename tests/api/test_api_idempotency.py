"""Idempotency-Key: replay, reuse with another body, scope per API key, racing duplicates."""

from __future__ import annotations

import threading

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.factories import Factory, auth, mismatch_row

TRIAGE = "/ops/finance/reconciliation/triage"


@pytest.fixture
def key(factory: Factory) -> str:
    row = mismatch_row("acme", "payout_idem")
    factory.publish([row])
    return row["triage_key"]


def audit_count(client: TestClient, token: str, key: str) -> int:
    return client.get("/ops/audit", headers=auth(token), params={"target_id": key}).json()["count"]


def test_replay_returns_the_stored_response_without_a_second_effect(
    client: TestClient, token: str, key: str
) -> None:
    body = {"triage_key": key, "status": "acknowledged", "notes": "looking"}
    first = client.post(TRIAGE, json=body, headers=auth(token, **{"Idempotency-Key": "triage-1"}))
    # Same JSON with other key order and spacing: the canonical request is the same.
    replay = client.post(
        TRIAGE,
        content=f'{{"notes": "looking",  "status": "acknowledged", "triage_key": "{key}"}}',
        headers=auth(token, **{"X-Idempotency-Key": "triage-1", "Content-Type": "application/json"}),
    )
    assert first.status_code == replay.status_code == 200
    assert replay.content == first.content
    assert replay.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    detail = client.get(f"{TRIAGE}/{key}", headers=auth(token)).json()
    assert detail["triage"]["revision"] == 1 and len(detail["triage"]["actions"]) == 1
    assert audit_count(client, token, key) == 1

    reused = client.post(
        TRIAGE, json={**body, "status": "in_progress"}, headers=auth(token, **{"Idempotency-Key": "triage-1"})
    )
    assert (reused.status_code, reused.json()["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert client.get(f"{TRIAGE}/{key}", headers=auth(token)).json()["triage"]["revision"] == 1


def test_keys_are_scoped_per_api_key_and_errors_are_not_stored(
    client: TestClient, token: str, key: str, factory: Factory
) -> None:
    other_key_same_tenant = factory.key("acme", "finance_write", "finance_read")
    headers = {"Idempotency-Key": "shared"}
    failing = client.post(
        TRIAGE, json={"triage_key": key, "status": "resolved"}, headers=auth(token, **headers)
    )
    assert failing.json()["code"] == "RESOLUTION_REQUIRED"
    ok = client.post(
        TRIAGE, json={"triage_key": key, "status": "acknowledged"}, headers=auth(token, **headers)
    )
    assert ok.status_code == 200  # the failed attempt left no record behind
    other = client.post(
        TRIAGE,
        json={"triage_key": key, "status": "in_progress"},
        headers=auth(other_key_same_tenant, **headers),
    )
    assert other.status_code == 200 and other.json()["triage"]["revision"] == 2


def test_invalid_idempotency_keys_are_400(client: TestClient, token: str, key: str) -> None:
    body = {"triage_key": key}
    for headers in ({"Idempotency-Key": "x" * 256}, {"Idempotency-Key": "a", "X-Idempotency-Key": "b"}):
        response = client.post(TRIAGE, json=body, headers=auth(token, **headers))
        assert (response.status_code, response.json()["code"]) == (400, "IDEMPOTENCY_KEY_INVALID")


def test_racing_duplicates_produce_one_effect(live_server: str, token: str, key: str) -> None:
    body = {"triage_key": key, "status": "acknowledged", "owner": "racer"}
    results: list[httpx.Response] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        barrier.wait()
        results.append(
            httpx.post(live_server + TRIAGE, json=body, headers=auth(token, **{"Idempotency-Key": "race"}))
        )

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [200] * 4
    assert len({r.content for r in results}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in results) == 3
    detail = httpx.get(f"{live_server}{TRIAGE}/{key}", headers=auth(token)).json()
    assert detail["triage"]["revision"] == 1
    assert (
        httpx.get(live_server + "/ops/audit", headers=auth(token), params={"target_id": key}).json()["count"]
        == 1
    )
