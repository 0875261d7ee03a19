"""The settlement policy routes (issue 19): versions are immutable (the 409, a repost that changes
nothing, no UPDATE of a version anywhere), the quota, every rollout action and error code, a rollback
that moves references only, the diff of a nested change and the presets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from tests.api.factories import Factory, auth
from tests.api.policies_kit import policy

BASE = "/v1/tenants/acme/settlement-policies"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def writer(factory: Factory) -> str:
    return factory.key("acme", "finance_read", "finance_write")


def post(client: TestClient, token: str, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(f"{BASE}{path}", json=body, headers=auth(token, **headers))


def register(client: TestClient, token: str, body: dict[str, Any] | None = None, **fields: Any) -> dict:
    response = post(client, token, "", {"policy_id": "pol.main", "policy": body or policy(), **fields})
    assert response.status_code in (200, 201), response.text
    return response.json()["version"]


def ref(version: dict[str, Any]) -> dict[str, Any]:
    return {"policy_id": version["policy_id"], "policy_version": version["policy_version"]}


def test_versions_are_immutable_and_a_different_body_is_409(client: TestClient, writer: str) -> None:
    first = post(client, writer, "", {"policy_id": "pol.main", "policy": policy(), "description": "v1"})
    assert first.status_code == 201 and first.json()["changed"] is True
    version = first.json()["version"]
    assert version["policy_version"] == 1 and version["policy"]["rules"]["red_release_rate_pct"] == 0
    same = post(client, writer, "", {"policy_id": "pol.main", "policy_version": 1, "policy": policy()})
    assert (same.status_code, same.json()["changed"]) == (200, False)
    assert same.json()["version"]["policy_hash"] == version["policy_hash"]
    other = post(
        client, writer, "", {"policy_id": "pol.main", "policy_version": 1, "policy": policy(green=90)}
    )
    assert (other.status_code, other.json()["code"]) == (409, "POLICY_VERSION_CONFLICT")
    assert other.json()["policy_hash"] == version["policy_hash"]
    second = register(client, writer, policy(green=90))
    assert second["policy_version"] == 2 and second["policy_hash"] != version["policy_hash"]
    register(client, writer, policy(), policy_id="aaa.first")
    listed = client.get(BASE, headers=auth(writer)).json()
    assert [(v["policy_id"], v["policy_version"]) for v in listed["items"]] == [
        ("aaa.first", 1), ("pol.main", 2), ("pol.main", 1)]  # fmt: skip
    one = client.get(f"{BASE}/pol.main/1", headers=auth(writer))
    assert one.json() == version
    missing = client.get(f"{BASE}/pol.main/9", headers=auth(writer))
    assert (missing.status_code, missing.json()["code"]) == (404, "POLICY_NOT_FOUND")


def test_a_broken_rule_is_policy_invalid_with_its_path(client: TestClient, writer: str) -> None:
    bad = {"mode": "automatic", "rules": {"amber_release_rate_pct": 150, "max_auto_release_amount_cents": 0}}
    response = post(client, writer, "", {"policy_id": "pol.bad", "policy": bad,
                                         "verification_method": {"mode": "deterministic", "x": 1}})  # fmt: skip
    assert (response.status_code, response.json()["code"]) == (422, "POLICY_INVALID")
    assert {(e["path"], e["type"]) for e in response.json()["errors"]} == {
        ("policy.rules.amber_release_rate_pct", "less_than_equal"),
        ("policy.rules.max_auto_release_amount_cents", "greater_than_equal"),
        ("verification_method.x", "extra_forbidden"),
    }


def test_the_plans_version_quota_is_403(client: TestClient, writer: str) -> None:
    for _ in range(10):  # a tenant without a plan has the free plan's 10 (seed settlement_policy_quotas)
        register(client, writer, policy(green=50))
    refused = post(client, writer, "", {"policy_id": "pol.main", "policy": policy(green=50)})
    assert (refused.status_code, refused.json()["code"]) == (403, "POLICY_VERSION_QUOTA")
    assert (refused.json()["plan"], refused.json()["max_policy_versions"]) == ("free", 10)
    repost = post(
        client, writer, "", {"policy_id": "pol.main", "policy_version": 3, "policy": policy(green=50)}
    )
    assert repost.status_code == 200  # a repost of an existing version is not a new one


def test_rollout_actions_and_their_error_codes(client: TestClient, writer: str) -> None:
    def code(path: str, body: dict[str, Any], **headers: str) -> tuple[int, str]:
        response = post(client, writer, path, body, **headers)
        return response.status_code, response.json().get("code") or response.json()["action"]

    assert code("/rollback", {}) == (409, "ACTIVE_POLICY_NOT_SET")
    assert code("/resolve", {"run_id": "run_0"}) == (409, "ACTIVE_POLICY_NOT_SET")
    v1, v2 = register(client, writer), register(client, writer, policy(green=80))
    state = client.get(f"{BASE}/state", headers=auth(writer)).json()
    assert state["stages"]["active"]["policy_version"] == 1 and state["revision"] == 1
    assert state["history"][0]["action"] == "active_initialized"
    assert code("/rollback", {}) == (409, "ROLLBACK_TARGET_NOT_FOUND")
    assert code("/rollout", {"stage": "beta", "policy_ref": ref(v2)}) == (422, "INVALID_STAGE")
    assert code("/rollout", {"stage": "active", "clear": True}) == (422, "INVALID_STAGE")
    assert code("/rollout", {"stage": "canary", "policy_ref": {"policy_id": "pol.main"}}) == (
        422, "INVALID_POLICY_REFERENCE")  # fmt: skip
    assert code("/rollout", {"stage": "canary", "policy_ref": {**ref(v2), "policy_hash": "0" * 64}}) == (
        422, "INVALID_POLICY_REFERENCE")  # fmt: skip
    assert code("/rollout", {"stage": "canary", "policy_ref": {"policy_id": "pol.main", "policy_version": 7}}) == (
        404, "POLICY_NOT_FOUND")  # fmt: skip
    for percent in (0, 101, 2.5, "10"):
        assert code("/rollout", {"stage": "canary", "policy_ref": ref(v2), "rollout_percent": percent}) == (
            422, "INVALID_ROLLOUT_PERCENT")  # fmt: skip
    assert code("/rollout", {"stage": "draft", "policy_ref": ref(v2), "rollout_percent": 5}) == (
        422, "INVALID_ROLLOUT_PERCENT")  # fmt: skip
    assert code("/rollout", {"stage": "draft", "policy_ref": ref(v2)}) == (200, "draft_selected")
    assert code("/rollout", {"stage": "canary", "policy_ref": ref(v2)}, **{"If-Match": '"1"'}) == (
        409, "REVISION_CONFLICT")  # fmt: skip
    moved = post(
        client, writer, "/rollout", {"stage": "canary", "policy_ref": ref(v2)}, **{"If-Match": '"2"'}
    )
    assert moved.json()["state"]["stages"]["canary"]["rollout_percent"] == 10  # the default
    assert code("/rollout", {"stage": "canary", "policy_ref": ref(v2), "rollout_percent": 25}) == (
        200,
        "canary_updated",
    )
    same = post(client, writer, "/rollout", {"stage": "canary", "policy_ref": ref(v2)})
    assert (
        same.json()["changed"] is False and same.json()["state"]["stages"]["canary"]["rollout_percent"] == 25
    )
    assert code("/rollout", {"stage": "active", "policy_ref": ref(v1)}) == (200, "active_confirmed")
    assert code("/rollout", {"stage": "draft", "clear": True}) == (200, "draft_cleared")
    promoted = post(client, writer, "/rollout", {"stage": "active", "policy_ref": ref(v2), "note": "go"})
    assert promoted.json()["action"] == "active_promoted"
    stages = promoted.json()["state"]["stages"]
    assert stages["active"]["policy_version"] == 2 and stages["canary"] == {
        "policy_ref": None,
        "rollout_percent": 0,
    }
    actions = [entry["action"] for entry in promoted.json()["state"]["history"]]
    assert actions == ["canary_cleared", "active_promoted", "draft_cleared", "canary_updated", "canary_updated",
                       "draft_selected", "active_initialized"]  # fmt: skip
    assert code("/rollback", {"policy_ref": ref(v2)}) == (200, "rollback_noop")
    assert code("/rollback", {"note": "bad numbers"}) == (200, "active_rollback")
    assert client.get(f"{BASE}/state", headers=auth(writer)).json()["stages"]["active"]["policy_version"] == 1


def test_rollback_moves_references_only_and_runs_keep_their_assignment(
    client: TestClient, writer: str
) -> None:
    v1, v2 = register(client, writer), register(client, writer, policy(green=80))
    post(client, writer, "/rollout", {"stage": "canary", "policy_ref": ref(v2), "rollout_percent": 50})
    runs = [f"run_{i}" for i in range(40)]
    before = {run: post(client, writer, "/resolve", {"run_id": run}).json() for run in runs}
    assert {answer["stage"] for answer in before.values()} == {"canary", "active"}
    for answer in before.values():
        assert (answer["stage"] == "canary") == (answer["bucket"] < 50)
        assert answer["policy_ref"]["policy_version"] == (2 if answer["stage"] == "canary" else 1)
    post(client, writer, "/rollout", {"stage": "active", "policy_ref": ref(v2)})
    assert post(client, writer, "/rollback", {}).json()["action"] == "active_rollback"
    after = {run: post(client, writer, "/resolve", {"run_id": run}).json() for run in runs}
    assert after == before
    versions = client.get(BASE, headers=auth(writer)).json()["items"]
    assert [v["policy_hash"] for v in versions] == [v2["policy_hash"], v1["policy_hash"]]


def test_the_diff_of_a_nested_change(client: TestClient, writer: str) -> None:
    v1 = register(client, writer, description="first")
    nested = policy(metering_pricing_evidence={"required": True, "pricing_matrix_hash": "pm1"})
    nested["rules"]["amber_release_rate_pct"] = 40
    v2 = register(client, writer, nested, description="first")
    post(client, writer, "/rollout", {"stage": "draft", "policy_ref": ref(v2)})
    diff = client.get(f"{BASE}/diff", headers=auth(writer)).json()  # active -> draft
    changes = {change["path"]: change for change in diff["changes"]}
    assert changes["policy.rules.amber_release_rate_pct"] == {
        "path": "policy.rules.amber_release_rate_pct", "kind": "changed", "from_value": 50, "to_value": 40}  # fmt: skip
    assert changes["policy.rules.metering_pricing_evidence.pricing_matrix_hash"]["kind"] == "added"
    assert changes["policy.rules.metering_pricing_evidence"]["kind"] == "removed"  # was a null leaf
    assert changes["policy_version"]["kind"] == "changed" and "description" not in changes
    summary = diff["summary"]
    assert (
        summary["total_paths"]
        == summary["added"] + summary["removed"] + summary["changed"] + summary["unchanged"]
    )
    assert summary["include_unchanged"] is False and diff["limited"] is False
    limited = client.get(f"{BASE}/diff?from=pol.main@1&to=pol.main@2&include_unchanged=true&limit=3",
                         headers=auth(writer)).json()  # fmt: skip
    assert len(limited["changes"]) == 3 and limited["limited"] is True
    assert limited["from_policy_ref"]["policy_hash"] == v1["policy_hash"]
    absent = client.get(f"{BASE}/diff?from=pol.main@9", headers=auth(writer)).json()
    assert absent["code"] == "FROM_POLICY_NOT_FOUND"
    assert (
        client.get(f"{BASE}/diff?to=pol.main@9", headers=auth(writer)).json()["code"] == "TO_POLICY_NOT_FOUND"
    )


def test_diff_without_references_is_409(client: TestClient, writer: str) -> None:
    response = client.get(f"{BASE}/diff", headers=auth(writer))
    assert (response.status_code, response.json()["code"]) == (409, "DIFF_POLICY_REFERENCE_REQUIRED")


def test_presets_apply_registers_the_reference_preset_once(client: TestClient, writer: str) -> None:
    applied = post(client, writer, "/presets/apply", {"preset_id": "balanced_guardrails_v1"})
    assert applied.status_code == 201
    version = applied.json()["version"]
    assert (version["policy_id"], version["policy_version"]) == ("market.preset.balanced-v1", 1)
    rules = version["policy"]["rules"]
    assert (rules["green_release_rate_pct"], rules["amber_release_rate_pct"], rules["red_release_rate_pct"],
            rules["max_auto_release_amount_cents"], rules["dispute_window_hours"]) == (90, 40, 0, 150_000, 72)  # fmt: skip
    again = post(client, writer, "/presets/apply", {"preset_id": "balanced_guardrails_v1"})
    assert (again.status_code, again.json()["changed"]) == (200, False)
    unknown = post(client, writer, "/presets/apply", {"preset_id": "yolo_v1"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "PRESET_NOT_FOUND")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_sql_updates_a_version(client: TestClient, writer: str) -> None:
    """No code path writes an UPDATE of settlement_policy_versions: not in the source, not on the wire."""
    pattern = re.compile(r"update\s*\(\s*PolicyVersion|UPDATE\s+settlement_policy_versions", re.IGNORECASE)
    sources = [*ROOT.glob("api/**/*.py"), *ROOT.glob("orchestration/**/*.py"), *ROOT.glob("devtools/**/*.py")]
    assert [str(path) for path in sources if pattern.search(path.read_text())] == []
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        v1 = register(client, writer)
        v2 = register(client, writer, policy(green=70))
        post(client, writer, "/rollout", {"stage": "canary", "policy_ref": ref(v2)})
        post(client, writer, "/resolve", {"run_id": "run_1"})
        post(client, writer, "/rollout", {"stage": "active", "policy_ref": ref(v2)})
        post(client, writer, "/rollback", {"policy_ref": ref(v1)})
        post(client, writer, "", {"policy_id": "pol.main", "policy_version": 1, "policy": policy(green=1)})
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert any("settlement_policy_versions" in s for s in statements)
    assert [s for s in statements if pattern.search(s)] == []
