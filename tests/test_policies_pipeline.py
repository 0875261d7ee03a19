"""Settlement policies on the demo's data (the session's pipeline run, seeded as `make demo` seeds it):
the registry in the warehouse, runs assigned by the rollout rule, and the settlements whose hash matches no
registered version turning their tenant's last period red, listed by id."""

from __future__ import annotations

import json

import duckdb
import pytest

from quality.gate_policies import CHECK_ID

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


def _query(pipeline_run: dict, sql: str) -> list[tuple]:
    with duckdb.connect(str(pipeline_run["warehouse"]), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_unregistered_hashes_turn_their_period_red_listed_by_id(pipeline_run: dict) -> None:
    manifest = pipeline_run["manifest"]
    registry, last = manifest["policy_registry"], manifest["arguments"]["periods"][-1]
    unregistered = registry["unregistered_settlement_ids"]
    assert registry["unregistered"] == len(unregistered) > 0
    for tenant in registry["tenants"]:
        verdict = json.loads((pipeline_run["artifacts"] / "gates" / tenant / f"{last}.json").read_text())
        (check,) = [c for c in verdict["checks"] if c["id"] == CHECK_ID]
        expected = sorted(s for s in unregistered if s.startswith(f"setl_run_{tenant.removeprefix('tnt_')}_"))
        assert check["details"]["settlementIds"] == expected and check["blocking"] is True
        assert check["ok"] is (not expected)
        assert (CHECK_ID in verdict["verdict"]["failingCheckIds"]) is bool(expected)
    exceptions = _query(
        pipeline_run, "select settlement_id, reference_status from marts.fct_settlement_policy_exceptions"
    )
    assert sorted(exceptions) == [(s, "hash_mismatch") for s in sorted(unregistered)]


def test_the_registry_and_the_canary_reach_the_marts(pipeline_run: dict) -> None:
    tenants = pipeline_run["manifest"]["policy_registry"]["tenants"]
    dim = _query(pipeline_run, "select tenant_id, policy_id, is_active, is_canary, canary_rollout_percent "
                               "from marts.dim_settlement_policies order by tenant_id, policy_id")  # fmt: skip
    assert dim == [row for tenant in sorted(tenants) for row in (
        (tenant, "market.preset.balanced-v1", True, False, None),
        (tenant, "market.preset.high-autonomy-v1", False, True, 10),
        (tenant, "market.preset.manual-review-v1", False, False, None),
    )]  # fmt: skip
    stages = dict(
        _query(pipeline_run, "select stage, sum(runs) from marts.fct_policy_rollout_outcomes group by stage")
    )
    assert set(stages) == {"canary", "active"}
    assert 0.07 < stages["canary"] / (stages["canary"] + stages["active"]) < 0.13
