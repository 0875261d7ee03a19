"""The listing kit: cursors walk every list route's rows exactly once, in the listing's order, stable under
writes between pages; a cursor that is not the listing's own is a 422."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.api.factories import T0, Factory, auth, mismatch_row

QUEUE, TRIAGE, AUDIT = "/ops/finance/reconciliation/queue", "/ops/finance/reconciliation/triage", "/ops/audit"
TYPES = ("missing_operation", "amount_mismatch", "stale_in_flight")


@pytest.fixture
def rows(factory: Factory) -> list[dict]:
    """Seven mismatches over three severities, published at two times (ties on first_seen_at)."""
    published = [mismatch_row("acme", f"p{n}", mismatch_type=TYPES[n % 3]) for n in range(7)]
    factory.publish(published[:4])
    factory.publish(published, at=T0 + timedelta(hours=1))
    return published


def walk(client: TestClient, token: str, path: str, key: str, **params) -> list[str]:
    """Every item of a listing, two per page, following next_cursor."""
    seen, cursor = [], None
    while True:
        page = client.get(
            path, headers=auth(token), params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        seen += [item[key] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return seen


def everything(client: TestClient, token: str, path: str, key: str) -> list:
    return [
        item[key] for item in client.get(path, headers=auth(token), params={"limit": 500}).json()["items"]
    ]


def test_the_queue_walks_in_its_order_once(client: TestClient, token: str, rows: list[dict]) -> None:
    walked = walk(client, token, QUEUE, "triage_key")
    assert walked == everything(client, token, QUEUE, "triage_key") and len(walked) == len(rows)
    severities = [
        item["effective_severity_rank"]
        for item in client.get(QUEUE, headers=auth(token), params={"limit": 500}).json()["items"]
    ]
    assert severities == sorted(severities)


def test_the_triage_list_and_the_audit_log_walk_once(
    client: TestClient, token: str, rows: list[dict]
) -> None:
    for row in rows:
        response = client.post(
            TRIAGE, json={"triage_key": row["triage_key"], "owner": "ana"}, headers=auth(token)
        )
        assert response.status_code == 200
    assert sorted(walk(client, token, TRIAGE, "triage_key")) == sorted(row["triage_key"] for row in rows)
    assert walk(client, token, TRIAGE, "triage_key") == everything(client, token, TRIAGE, "triage_key")
    assert walk(client, token, AUDIT, "id") == everything(client, token, AUDIT, "id")


def test_a_cursor_is_stable_under_writes_between_pages(
    client: TestClient, token: str, rows: list[dict]
) -> None:
    for row in rows[:3]:
        client.post(TRIAGE, json={"triage_key": row["triage_key"], "owner": "ana"}, headers=auth(token))
    page = client.get(AUDIT, headers=auth(token), params={"limit": 2}).json()
    for row in rows[3:5]:  # newer rows arrive: an offset would now repeat an item, the cursor does not
        client.post(TRIAGE, json={"triage_key": row["triage_key"], "owner": "ana"}, headers=auth(token))
    rest = client.get(AUDIT, headers=auth(token), params={"limit": 500, "cursor": page["next_cursor"]}).json()
    ids = [item["id"] for item in page["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) == page["count"] and ids == sorted(ids, reverse=True)


def test_a_foreign_or_forged_cursor_is_422(client: TestClient, token: str, rows: list[dict]) -> None:
    queue_cursor = client.get(QUEUE, headers=auth(token), params={"limit": 1}).json()["next_cursor"]
    for path, params in (
        (AUDIT, {"cursor": queue_cursor}),  # another listing's cursor
        (QUEUE, {"cursor": "bm90LWpzb24"}),  # base64 of "not-json"
        (
            QUEUE,
            {"cursor": "eyJvIjoicmVjb25jaWxpYXRpb25fcXVldWUiLCJ2IjpbIngiLDEsMl19"},
        ),  # values of the wrong type
    ):
        response = client.get(path, headers=auth(token), params=params)
        assert (response.status_code, response.json()["code"]) == (422, "CURSOR_INVALID"), response.text
    both = client.get(QUEUE, headers=auth(token), params={"cursor": queue_cursor, "offset": 1})
    assert (both.status_code, both.json()["code"]) == (422, "VALIDATION_FAILED")
