"""The period gate's blocking settlement policy check: a settlement no registered version backs turns the
tenant's period red, listed by id; other tenants and periods stay as they are; a missing mart fails closed."""

from __future__ import annotations

from pathlib import Path

import duckdb

from quality.gate import evaluate
from quality.gate_policies import CHECK_ID, unbacked_settlements
from settld.settings import warehouse_target
from settld.warehouse import connect as connect_warehouse

ROWS = [  # tenant, settlement, locked period, resolved period, status
    ("tnt_a", "setl_bad_1", "2026-10", "2026-10", "hash_mismatch"),
    ("tnt_a", "setl_bad_2", "2026-09", "2026-10", "version_not_registered"),
    ("tnt_a", "setl_old", "2026-08", "2026-08", "hash_mismatch"),
    ("tnt_b", "setl_other", "2026-10", None, "hash_mismatch"),
]


def _warehouse(path: Path, rows: list[tuple] | None) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        if rows is not None:
            con.execute(
                "create table marts.fct_settlement_policy_exceptions (tenant_id varchar, settlement_id varchar, "
                "run_id varchar, policy_id varchar, policy_version bigint, policy_hash varchar, "
                "registered_policy_hash varchar, reference_status varchar, locked_period varchar, "
                "resolved_period varchar)"
            )
            for tenant, settlement, locked, resolved, status in rows:
                con.execute(
                    "insert into marts.fct_settlement_policy_exceptions values (?, ?, 'run', 'pol', 1, 'h', "
                    "case when ? = 'hash_mismatch' then 'other' end, ?, ?, ?)",
                    [tenant, settlement, status, status, locked, resolved],
                )


def _check(path: Path, tenant: str, period: str) -> tuple[dict, dict]:
    with connect_warehouse(warehouse_target(str(path)), read_only=True) as db:
        verdict = evaluate(db, tenant_id=tenant, period=period, artifacts_dir=path.parent / "artifacts")
    (check,) = [check for check in verdict["checks"] if check["id"] == CHECK_ID]
    return check, verdict


def test_an_unbacked_settlement_turns_its_period_red_listed_by_id(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _warehouse(path, ROWS)
    check, verdict = _check(path, "tnt_a", "2026-10")
    assert (check["ok"], check["blocking"]) == (False, True)
    assert check["details"]["unbacked"] == 2
    assert check["details"]["settlementIds"] == ["setl_bad_1", "setl_bad_2"]
    assert [e["reason"] for e in check["details"]["examples"]] == ["hash_mismatch", "version_not_registered"]
    assert CHECK_ID in verdict["verdict"]["failingCheckIds"]
    with connect_warehouse(warehouse_target(str(path)), read_only=True) as db:
        assert unbacked_settlements(db, tenant_id="tnt_a", period="2026-11")[0] is True
        empty = unbacked_settlements(db, tenant_id="tnt_c", period="2026-10")
    assert empty == (True, {"unbacked": 0, "settlementIds": [], "examples": []})


def test_the_check_fails_closed_without_its_mart(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _warehouse(path, None)
    check, _ = _check(path, "tnt_a", "2026-10")
    assert (check["ok"], check["blocking"]) == (False, True) and "error" in check["details"]
