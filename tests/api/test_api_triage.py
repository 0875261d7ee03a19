"""Triage lifecycle through HTTP: transitions, revisions, action log, no-op updates, conflicts."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.factories import Factory, auth, mismatch_row

TRIAGE = "/ops/finance/reconciliation/triage"


@pytest.fixture
def key(factory: Factory) -> str:
    row = mismatch_row("acme", "payout_1")
    factory.publish([row])
    return row["triage_key"]


def post(client: TestClient, token: str, body: dict, **headers: str):
    return client.post(TRIAGE, json=body, headers=auth(token, **headers))


def test_full_lifecycle_with_revisions_timestamps_and_action_log(
    client: TestClient, token: str, key: str
) -> None:
    steps = [
        ({"status": "acknowledged", "owner": "ana@acme.example"}, "acknowledged", 1),
        ({"status": "in_progress", "notes": "asked the provider"}, "in_progress", 2),
        ({"status": "resolved", "resolution": "provider re-sent the missing 5.00"}, "resolved", 3),
        ({"action": "reopen", "notes": "the re-send bounced"}, "open", 4),
    ]
    for body, status, revision in steps:
        response = post(client, token, {"triage_key": key, **body})
        assert response.status_code == 200, response.text
        payload = response.json()
        assert payload["ok"] is True and payload["changed"] is True
        triage = payload["triage"]
        assert (triage["status"], triage["revision"]) == (status, revision)
        assert [a["revision"] for a in triage["actions"]] == list(range(revision, 0, -1))  # newest first
        if status == "resolved":
            assert (
                triage["resolved_at"]
                and triage["closed_at"]
                and triage["triaged_at"]
                and triage["acknowledged_at"]
            )
            assert triage["resolution"] == "provider re-sent the missing 5.00"
            assert triage["resolved_by_key_id"] == token[3:23]

    # Reopening starts a new episode: per-state times and the resolution are cleared, owner is kept.
    assert triage["opened_at"] > triage["created_at"]
    assert triage["resolved_at"] is None and triage["closed_at"] is None and triage["triaged_at"] is None
    assert triage["resolution"] is None and triage["owner"] == "ana@acme.example"

    detail = client.get(f"{TRIAGE}/{key}", headers=auth(token)).json()
    actions = detail["triage"]["actions"]
    assert [(a["action"], a["prev_status"], a["next_status"]) for a in actions] == [
        ("triage_reopen", "resolved", "open"),
        ("triage_update", "in_progress", "resolved"),
        ("triage_update", "acknowledged", "in_progress"),
        ("triage_create", None, "acknowledged"),
    ]
    assert actions[0]["notes"] == "the re-send bounced" and actions[0]["actor_key_id"] == token[3:23]
    assert len({a["action_id"] for a in actions}) == 4
    assert detail["mismatch"]["triage_key"] == key

    audit = client.get("/ops/audit", headers=auth(token), params={"target_id": key}).json()
    assert audit["count"] == 4
    assert [item["details"]["revision"] for item in audit["items"]] == [4, 3, 2, 1]
    assert all(item["action"] == "FINANCE_RECONCILIATION_TRIAGE_UPSERT" for item in audit["items"])


def test_reopen_needs_notes_and_a_closed_record(client: TestClient, token: str, key: str) -> None:
    too_early = post(client, token, {"triage_key": key, "action": "reopen", "notes": "x"})
    assert too_early.json()["code"] == "TRANSITION_ILLEGAL"
    dismissed = post(client, token, {"triage_key": key, "status": "dismissed", "resolution": "duplicate"})
    triage = dismissed.json()["triage"]
    assert triage["resolved_at"] == triage["closed_at"] is not None and triage["resolution"] == "duplicate"
    with_resolution = post(
        client, token, {"triage_key": key, "action": "reopen", "notes": "n", "resolution": "r"}
    )
    assert with_resolution.json()["code"] == "REOPEN_RESOLUTION_NOT_ALLOWED"
    missing = post(client, token, {"triage_key": key, "action": "reopen"})
    assert (missing.status_code, missing.json()["code"]) == (422, "REOPEN_NOTES_REQUIRED")
    blank = post(client, token, {"triage_key": key, "action": "reopen", "notes": "   "})
    assert blank.json()["code"] == "REOPEN_NOTES_REQUIRED"
    reopened = post(client, token, {"triage_key": key, "action": "reopen", "notes": "why"})
    assert reopened.json()["triage"]["status"] == "open"


def test_illegal_transitions_name_from_and_to(client: TestClient, token: str, key: str) -> None:
    post(client, token, {"triage_key": key, "status": "acknowledged"})
    back = post(client, token, {"triage_key": key, "status": "open"})
    assert back.status_code == 409
    problem = back.json()
    assert (problem["code"], problem["from_status"], problem["to_status"]) == (
        "TRANSITION_ILLEGAL",
        "acknowledged",
        "open",
    )
    post(client, token, {"triage_key": key, "status": "resolved", "resolution": "fixed"})
    for body in ({"status": "in_progress"}, {"status": "dismissed", "resolution": "x"}):
        assert post(client, token, {"triage_key": key, **body}).json()["code"] == "TRANSITION_ILLEGAL"
    frozen = post(client, token, {"triage_key": key, "notes": "late note"})
    assert (frozen.status_code, frozen.json()["code"]) == (409, "TRIAGE_CLOSED")


def test_resolution_required_to_resolve_or_dismiss(client: TestClient, token: str, key: str) -> None:
    for status in ("resolved", "dismissed"):
        response = post(client, token, {"triage_key": key, "status": status})
        assert (response.status_code, response.json()["code"]) == (422, "RESOLUTION_REQUIRED")
    assert client.get(f"{TRIAGE}/{key}", headers=auth(token)).status_code == 404  # nothing was created


def test_no_op_update_returns_changed_false_without_revision_or_audit(
    client: TestClient, token: str, key: str
) -> None:
    first = post(
        client, token, {"triage_key": key, "status": "in_progress", "owner": "ana", "severity": "critical"}
    )
    assert first.json()["triage"]["revision"] == 1
    for body in ({"status": "in_progress", "owner": "ana"}, {}, {"severity": "critical", "notes": None}):
        again = post(client, token, {"triage_key": key, **body})
        assert again.status_code == 200
        assert again.json()["changed"] is False and again.json()["triage"]["revision"] == 1
    assert client.get("/ops/audit", headers=auth(token), params={"target_id": key}).json()["count"] == 1
    cleared = post(client, token, {"triage_key": key, "owner": None})
    assert cleared.json()["changed"] is True and cleared.json()["triage"]["owner"] is None


def test_expected_revision_and_if_match(client: TestClient, token: str, key: str) -> None:
    conflict = post(client, token, {"triage_key": key, "status": "acknowledged", "expected_revision": 3})
    assert (conflict.status_code, conflict.json()["code"], conflict.json()["current_revision"]) == (
        409,
        "REVISION_CONFLICT",
        0,
    )
    created = post(client, token, {"triage_key": key, "status": "acknowledged", "expected_revision": 0})
    assert created.json()["triage"]["revision"] == 1
    stale = post(client, token, {"triage_key": key, "status": "in_progress"}, **{"If-Match": '"0"'})
    assert (stale.status_code, stale.json()["current_revision"]) == (409, 1)
    fresh = post(client, token, {"triage_key": key, "status": "in_progress"}, **{"If-Match": '"1"'})
    assert fresh.json()["triage"]["revision"] == 2
    ambiguous = post(client, token, {"triage_key": key, "expected_revision": 2}, **{"If-Match": '"1"'})
    assert (ambiguous.status_code, ambiguous.json()["code"]) == (400, "REVISION_AMBIGUOUS")
    invalid = post(client, token, {"triage_key": key}, **{"If-Match": "abc"})
    assert (invalid.status_code, invalid.json()["code"]) == (400, "IF_MATCH_INVALID")


def test_unknown_mismatch_is_404(client: TestClient, token: str) -> None:
    response = post(
        client, token, {"triage_key": "frt_202609_000000000000000000000000", "status": "acknowledged"}
    )
    assert (response.status_code, response.json()["code"]) == (404, "MISMATCH_NOT_FOUND")


def test_triage_list_sorted_filtered_and_counted(client: TestClient, token: str, factory: Factory) -> None:
    rows = [mismatch_row("acme", f"p{i}", period="2026-08" if i == 3 else "2026-09") for i in range(4)]
    factory.publish(rows)
    for row, status in zip(rows, ["acknowledged", "in_progress", "acknowledged", "in_progress"], strict=True):
        assert post(client, token, {"triage_key": row["triage_key"], "status": status}).status_code == 200
    listed = client.get(TRIAGE, headers=auth(token)).json()
    assert [item["triage_key"] for item in listed["items"]] == [row["triage_key"] for row in reversed(rows)]
    assert listed["statusCounts"] == {
        "open": 0,
        "acknowledged": 2,
        "in_progress": 2,
        "resolved": 0,
        "dismissed": 0,
    }
    filtered = client.get(
        TRIAGE, headers=auth(token), params={"status": "acknowledged", "period": "2026-09"}
    ).json()
    assert filtered["count"] == 2 and filtered["statusCounts"]["in_progress"] == 1
    page = client.get(TRIAGE, headers=auth(token), params={"limit": 1, "offset": 1}).json()
    assert (page["count"], [i["triage_key"] for i in page["items"]]) == (4, [rows[2]["triage_key"]])
