"""dbt on DuckDB, end to end: raw tables from `ingestion.contracts`, hand-written rows, `dbt build`.

The rows are chosen so that each de-duplication rule has exactly one right answer: a settlement
exported twice, a payout key instructed twice with different amounts, an instruction delivered
twice identically, a money-rail operation seen in two states, a Stripe event pulled and pushed.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.dbt_rows import (
    DBT_PROJECT_DIR,
    build_warehouse,
    raw_rows,
    ts,
)


def _dbt(command: str, target_dir: Path, *arguments: str):
    from dbt.cli.main import dbtRunner

    return dbtRunner().invoke(
        [
            command,
            *arguments,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target_dir),
            "--log-path",
            str(target_dir),
            "--quiet",
        ]
    )


def _dbt_env(monkeypatch: pytest.MonkeyPatch, warehouse: Path) -> None:
    monkeypatch.setenv("SETTLD_DBT_TARGET", "duckdb")
    monkeypatch.setenv("SETTLD_DUCKDB_PATH", str(warehouse))


@pytest.fixture(scope="module")
def dbt_target_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One target dir and warehouse path per module, parsed once: with the profile unchanged,
    every build reuses that parse (~3 s each) instead of parsing again."""
    target_dir = tmp_path_factory.mktemp("dbt_target")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _dbt_env(monkeypatch, target_dir / "settld.duckdb")
        parsed = _dbt("parse", target_dir)
    assert parsed.success, parsed.exception
    return target_dir


@pytest.fixture
def warehouse(dbt_target_dir: Path) -> Path:
    # Not deleted between tests: dbt-duckdb may keep the database instance open in this process,
    # so `build_warehouse` drops and recreates the schemas instead.
    return dbt_target_dir / "settld.duckdb"


def _dbt_build(target_dir: Path, monkeypatch: pytest.MonkeyPatch, warehouse: Path):
    _dbt_env(monkeypatch, warehouse)
    return _dbt("build", target_dir)


def _failing_data_tests(target_dir: Path, selection: str) -> dict[str, int]:
    """`dbt test` on `selection`, eagerly (every test on the selected models, also those that read other
    tables: the project default is cautious); failing test name -> failing rows."""
    result = _dbt("test", target_dir, "--indirect-selection", "eager", "--select", selection)
    assert result.exception is None, result.exception
    return {r.node.name: r.failures for r in result.result.results if str(r.status) == "fail"}


def _not_passed(result) -> list[tuple[str, str]]:
    return sorted(
        (r.node.name, str(r.status))
        for r in result.result.results
        if str(r.status) not in ("success", "pass")
    )


def test_dbt_build_deduplicates_and_builds_marts(monkeypatch, dbt_target_dir, warehouse):
    build_warehouse(warehouse, raw_rows())

    result = _dbt_build(dbt_target_dir, monkeypatch, warehouse)

    assert result.exception is None, result.exception
    assert result.success, _not_passed(result)
    con = duckdb.connect(str(warehouse))
    try:
        schemas = {name for (name,) in con.sql("select schema_name from duckdb_schemas()").fetchall()}
        assert {"raw", "staging", "intermediate", "marts"} <= schemas

        settlements = con.execute(
            "select settlement_id, status, is_resolved, locked_period, resolved_period, _source_file "
            "from staging.stg_settlement_kernel__settlements order by tenant_id, settlement_id"
        ).fetchall()
        assert settlements == [
            ("s1", "released", True, "2024-01", "2024-02", "settlements/a.jsonl"),
            ("s2", "refunded", True, "2024-01", "2024-01", "settlements/a.jsonl"),
            ("s3", "locked", False, "2024-01", None, "settlements/a.jsonl"),
        ]

        instructions = con.execute(
            "select payout_key, amount_cents, instruction_seq, delivery_count, _source_file, _source_row "
            "from staging.stg_settlement_kernel__payout_instructions order by payout_key, instruction_seq"
        ).fetchall()
        assert instructions == [
            ("k1", 1000, 1, 1, "payout_instructions/a.jsonl", 3),
            ("k1", 900, 2, 1, "payout_instructions/a.jsonl", 1),
            ("k2", 300, 1, 2, "payout_instructions/a.jsonl", 2),
            ("k3", 700, 1, 1, "payout_instructions/a.jsonl", 4),
        ]
        ids = con.execute(
            "select count(distinct payout_instruction_id), min(length(payout_instruction_id)) "
            "from staging.stg_settlement_kernel__payout_instructions"
        ).fetchone()
        assert ids == (4, 32)

        operation_versions = con.execute(
            "select operation_id, state, _source_file from staging.stg_money_rails__operations "
            "order by operation_id"
        ).fetchall()
        assert operation_versions == [
            ("o1", "confirmed", "money_rail_operations/a.jsonl"),
            ("o2", "submitted", "money_rail_operations/a.jsonl"),
        ]
        operations = con.execute(
            "select operation_id, state, is_live, is_in_flight, is_terminal_failure, first_event_period "
            "from marts.fct_money_rail_operations order by operation_id"
        ).fetchall()
        assert operations == [
            ("o1", "confirmed", True, False, False, "2024-02"),
            ("o2", "submitted", True, True, False, "2024-02"),
        ]

        events = con.execute(
            "select event_id, event_period, _source_file from staging.stg_stripe__events order by event_id"
        ).fetchall()
        assert events == [
            ("evt_1", "2024-01", "stripe_events/pull.jsonl"),
            ("evt_2", "2024-01", "stripe_events/pull.jsonl"),
        ]

        facts = con.execute(
            "select settlement_id, has_dispute, is_money_conserved, released_amount_cents, "
            "refunded_amount_cents from marts.fct_settlements order by settlement_id"
        ).fetchall()
        assert facts == [("s1", False, True, 1000, 0), ("s2", True, True, 0, 500), ("s3", False, None, 0, 0)]

        tenants = con.execute(
            "select tenant_id, settlement_count, payout_instruction_count, money_rail_operation_count, "
            "stripe_event_count, first_seen_at from marts.dim_tenants order by tenant_id"
        ).fetchall()
        assert tenants == [
            ("t1", 2, 3, 1, 0, ts("2024-01-10T09:00:00")),
            ("t2", 1, 1, 1, 0, ts("2024-01-10T09:00:00")),
            ("t3", 0, 0, 0, 1, ts("2024-01-31T23:59:59")),
        ]
    finally:
        con.close()


@pytest.mark.drill  # a dbt build of its own on broken rows: CI runs it with the drills
def test_dbt_build_fails_on_unconserved_resolved_settlement(monkeypatch, dbt_target_dir, warehouse):
    build_warehouse(warehouse, raw_rows(broken_settlement=True))

    result = _dbt_build(dbt_target_dir, monkeypatch, warehouse)

    assert not result.success
    assert result.exception is None, result.exception
    not_passed = _not_passed(result)
    failed = [(name, status) for name, status in not_passed if status != "skipped"]
    assert len(failed) == 1, not_passed
    name, status = failed[0]
    assert name.startswith("resolved_money_is_conserved_fct_settlements"), failed
    assert status == "fail"
    # dbt build skips the models downstream of the model a failing test guards, and their tests: nothing else.
    nodes = json.loads((dbt_target_dir / "manifest.json").read_text())["nodes"]
    downstream, grew = {"model.settld.fct_settlements"}, True
    while grew:
        before = len(downstream)
        downstream |= {uid for uid, node in nodes.items() if uid.startswith("model.")
                       and downstream & set(node.get("depends_on", {}).get("nodes", []))}  # fmt: skip
        grew = len(downstream) > before
    downstream -= {"model.settld.fct_settlements"}
    skipped = [r.node for r in result.result.results if str(r.status) == "skipped"]
    strays = [node.name for node in skipped if node.unique_id not in downstream
              and not downstream & set(node.depends_on.nodes)]  # fmt: skip
    assert skipped and not strays, strays


@pytest.mark.drill  # a dbt build of its own on broken rows: CI runs it with the drills
def test_unique_combination_finds_every_repeated_combination(monkeypatch, dbt_target_dir, warehouse):
    """The project's `unique_combination` test groups by a 64-bit hash before the real columns: a repeated
    combination must still fail it, with a null in the combination grouped like any value."""
    build_warehouse(warehouse, raw_rows())
    built = _dbt_build(dbt_target_dir, monkeypatch, warehouse)
    assert built.success, _not_passed(built)
    con = duckdb.connect(str(warehouse))
    try:
        # One operation twice, and two operations of one provider without an id.
        con.execute(
            "insert into staging.stg_money_rails__operations "
            "select * from staging.stg_money_rails__operations order by provider_id, operation_id limit 1"
        )
        con.execute(
            "insert into staging.stg_money_rails__operations "
            "select * replace (cast(null as varchar) as operation_id) from staging.stg_money_rails__operations "
            "order by provider_id, operation_id limit 2"
        )
    finally:
        con.close()

    assert _failing_data_tests(dbt_target_dir, "stg_money_rails__operations,test_type:data") == {
        "unique_combination_stg_money_rails__operations_provider_id__operation_id": 2,
        "not_null_columns_stg_money_rails__operations": 2,  # two empty operation_id cells
        # the copied confirmed operation is in staging twice but in the tie-out once
        "reconciliation_tieout_counts_every_confirmed_payout": 1,
    }


@pytest.mark.drill  # a dbt build of its own on broken rows: CI runs it with the drills
def test_composite_relationships_and_layer_integrity_tests_fail_on_broken_marts(
    monkeypatch, dbt_target_dir, warehouse
):
    """`relationships_combination` finds a mismatch whose (source, type, code) the seed does not have, and the
    integrity tests between layers find a tie-out whose expected total no longer sums the instructions."""
    build_warehouse(warehouse, raw_rows())
    built = _dbt_build(dbt_target_dir, monkeypatch, warehouse)
    assert built.success, _not_passed(built)
    con = duckdb.connect(str(warehouse))
    try:
        assert con.execute("select count(*) from marts.fct_reconciliation_mismatches").fetchone()[0] > 0
        con.execute(
            "update marts.fct_reconciliation_mismatches set mismatch_code = 'MONEY_RAIL_NOT_IN_THE_SEED' "
            "where triage_key = (select min(triage_key) from marts.fct_reconciliation_mismatches)"
        )
        con.execute(
            "update marts.fct_reconciliation_tieout set expected_total_cents = expected_total_cents + 1 "
            "where expected_total_cents > 0"
        )
    finally:
        con.close()

    selection = "fct_reconciliation_mismatches fct_reconciliation_tieout,test_type:data"
    assert _failing_data_tests(dbt_target_dir, selection) == {
        "relationships_combination_fct_reconciliation_mismatches_source_type__mismatch_type__mismatch_code__ref_reconciliation_mismatch_types_": 1,  # noqa: E501
        "reconciliation_marts_total_the_instructions": 2,
    }
