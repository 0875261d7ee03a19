"""The settlement policy core the marketplace's accept calls: versions and their hashes, the document's
rules (POLICY_INVALID with field paths), and the canary really used by resolve_policy_for_run."""

from __future__ import annotations

import hashlib

import pytest

from api.core.errors import Problem
from api.policies.document import PRESETS, SettlementPolicy, document_hash, validate_documents
from api.policies.rollout import rollback
from api.policies.service import bucket_of, find_policy_version, resolve_policy_for_run
from settld.core import canonical_hash
from tests.api.factories import Factory
from tests.api.policies_kit import T0, context, move, policy, register


def test_bucket_is_the_reference_rule_and_deterministic() -> None:
    expected = int(hashlib.sha256(b"tnt_a:run_1").hexdigest()[:8], 16) % 100
    assert bucket_of("tnt_a", "run_1") == expected == bucket_of("tnt_a", "run_1")
    assert {bucket_of("tnt_a", f"run_{i}") for i in range(2000)} == set(range(100))


def test_ten_percent_canary_gets_nine_to_eleven_percent_of_ten_thousand_runs() -> None:
    share = sum(bucket_of("tnt_a", f"run_{i:05d}") < 10 for i in range(10_000)) / 10_000
    assert 0.09 <= share <= 0.11


def test_policy_hash_is_the_canonical_hash_of_the_normalised_policy_and_includes_the_version() -> None:
    first, _ = validate_documents(policy(), None, policy_version=1)
    second, _ = validate_documents(policy(), None, policy_version=2)
    normalised = first.model_dump(mode="json")
    assert normalised["rules"]["red_release_rate_pct"] == 0  # defaults written out
    assert normalised["schema_version"] == "SettlementPolicy.v1"
    assert document_hash(first) == canonical_hash(normalised) != document_hash(second)


def test_every_broken_rule_is_named_by_its_path_and_code() -> None:
    with pytest.raises(Problem) as raised:
        validate_documents(
            {"mode": "yolo", "policy_version": 3, "rules": {"green_release_rate_pct": 101,
             "dispute_window_hours": 0, "surprise": 1}},
            {"mode": "psychic"}, policy_version=2,
        )  # fmt: skip
    problem = raised.value
    assert (problem.status, problem.code) == (422, "POLICY_INVALID")
    found = {(entry["path"], entry["type"]) for entry in problem.errors}
    assert found == {
        ("policy.policy_version", "policy_version_mismatch"),
        ("policy.mode", "literal_error"),
        ("policy.rules.green_release_rate_pct", "less_than_equal"),
        ("policy.rules.dispute_window_hours", "greater_than_equal"),
        ("policy.rules.surprise", "extra_forbidden"),
        ("verification_method.mode", "literal_error"),
    }


def test_presets_carry_the_reference_numbers() -> None:
    rules = {name: SettlementPolicy.model_validate({**preset["policy"], "policy_version": 1}).rules
             for name, preset in PRESETS.items()}  # fmt: skip
    balanced, autonomy, manual = (rules[name] for name in
                                  ("balanced_guardrails_v1", "high_autonomy_low_risk_v1", "manual_review_high_risk_v1"))  # fmt: skip
    assert (balanced.green_release_rate_pct, balanced.amber_release_rate_pct, balanced.red_release_rate_pct,
            balanced.max_auto_release_amount_cents, balanced.dispute_window_hours) == (90, 40, 0, 150_000, 72)  # fmt: skip
    assert (autonomy.green_release_rate_pct, autonomy.amber_release_rate_pct,
            autonomy.max_auto_release_amount_cents, autonomy.dispute_window_hours) == (100, 60, 300_000, 24)  # fmt: skip
    assert (manual.green_release_rate_pct, manual.max_auto_release_amount_cents, manual.dispute_window_hours) == (
        70, 50_000, 168)  # fmt: skip
    assert PRESETS["manual_review_high_risk_v1"]["policy"]["mode"] == "manual-review"
    assert PRESETS["balanced_guardrails_v1"]["policy_id"] == "market.preset.balanced-v1"


def test_find_policy_version_returns_the_row_or_none(factory: Factory) -> None:
    factory.tenant("acme")
    ref = register(factory, "acme", "pol.main")
    with factory.transaction() as session:
        row = find_policy_version(session, tenant_id="acme", policy_id="pol.main", policy_version=1)
        assert row.policy_hash == ref["policy_hash"] and len(row.verification_method_hash) == 64
        assert row.policy["rules"]["green_release_rate_pct"] == 100 and row.policy["policy_version"] == 1
        assert find_policy_version(session, tenant_id="acme", policy_id="pol.main", policy_version=2) is None
        assert find_policy_version(session, tenant_id="other", policy_id="pol.main", policy_version=1) is None


def test_resolve_without_an_active_policy_is_409(factory: Factory) -> None:
    factory.tenant("acme")
    with factory.transaction() as session, pytest.raises(Problem) as raised:
        resolve_policy_for_run(session, tenant_id="acme", run_id="run_1", now=T0, actor="test")
    assert (raised.value.status, raised.value.code) == (409, "ACTIVE_POLICY_NOT_SET")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_resolve_uses_the_canary_percent_and_records_the_assignment_through_a_rollback(
    factory: Factory,
) -> None:
    factory.tenant("acme")
    stable = register(factory, "acme", "pol.main")  # the first version becomes active
    candidate = register(factory, "acme", "pol.main", policy(green=80))
    assert move(factory, "acme", "canary", candidate, rollout_percent=10) == "canary_updated"
    runs = [f"run_{i:05d}" for i in range(600)]  # the 10,000-run share: the test above
    with factory.transaction() as session:
        assigned = {run: resolve_policy_for_run(session, tenant_id="acme", run_id=run, now=T0, actor="k1")
                    for run in runs}  # fmt: skip
    canary = [run for run, got in assigned.items() if got.stage == "canary"]
    assert 30 <= len(canary) <= 90  # 60 expected
    for run, got in assigned.items():
        assert got.bucket == bucket_of("acme", run)
        assert (got.stage == "canary") == (got.bucket < 10)
        assert got.policy_ref == (candidate if got.stage == "canary" else stable)
        assert got.rollout_revision == 2  # active_initialized, canary_updated
    # Promote the candidate, then roll back: what earlier runs were assigned does not move.
    assert move(factory, "acme", "active", candidate) == "active_promoted"
    with factory.transaction() as session:
        assert (
            rollback(session, tenant_id="acme", context=context("acme"), now=T0).action == "active_rollback"
        )
    with factory.transaction() as session:
        again = {run: resolve_policy_for_run(session, tenant_id="acme", run_id=run, now=T0, actor="k2")
                 for run in runs[:200] + ["run_new"]}  # fmt: skip
    assert all(again[run] == assigned[run] for run in runs[:200])
    assert again["run_new"].stage == "active" and again["run_new"].policy_ref == stable
    assert again["run_new"].rollout_revision == 5  # + active_promoted, canary_cleared, active_rollback
