"""dbt on DuckDB, end to end: raw tables from `ingestion.contracts`, hand-written rows, `dbt build`.

The rows are chosen so that each de-duplication rule has exactly one right answer: a settlement
exported twice, a payout key instructed twice with different amounts, an instruction delivered
twice identically, a money-rail operation seen in two states, a Stripe event pulled and pushed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingestion.contracts import DATASETS, LOAD_FILES_DDL, QUARANTINE_DDL, raw_table_columns, raw_table_ddl

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
LOADED_AT = datetime(2024, 2, 3, 12, 0, 0)

pytestmark = pytest.mark.slow


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _settlement(settlement_id: str, tenant_id: str, status: str, amount: int, **overrides: Any) -> dict:
    row = {
        "tenant_id": tenant_id,
        "settlement_id": settlement_id,
        "run_id": f"run_{settlement_id}",
        "payer_agent_id": "agent_buyer",
        "payee_agent_id": "agent_seller",
        "amount_cents": amount,
        "released_amount_cents": None,
        "refunded_amount_cents": None,
        "currency": "USD",
        "status": status,
        "policy_id": "pol_default",
        "policy_version": 1,
        "policy_hash": "sha256:abc",
        "locked_at": _ts("2024-01-10T09:00:00"),
        "resolved_at": None,
        "dispute_status": "none",
        "updated_at": _ts("2024-01-10T09:00:00"),
    }
    return row | overrides


def _instruction(tenant_id: str, payout_key: str, amount: int, created_at: str) -> dict:
    return {
        "tenant_id": tenant_id,
        "payout_key": payout_key,
        "party_id": f"party_{payout_key}",
        "party_role": "payee",
        "period": "2024-01",
        "amount_cents": amount,
        "currency": "USD",
        "provider_id": "wire",
        "destination_ref": None,
        "statement_hash": "sha256:stmt",
        "created_at": _ts(created_at),
    }


def _operation(operation_id: str, tenant_id: str, payout_key: str, state: str, **timestamps: str) -> dict:
    row = {
        "provider_id": "wire",
        "operation_id": operation_id,
        "tenant_id": tenant_id,
        "direction": "payout",
        "payout_key": payout_key,
        "amount_cents": 1000,
        "currency": "USD",
        "state": state,
        "reason_code": None,
        "provider_ref": f"ref_{operation_id}",
        "initiated_at": None,
        "submitted_at": None,
        "confirmed_at": None,
        "failed_at": None,
        "cancelled_at": None,
        "reversed_at": None,
    }
    return row | {name: _ts(value) for name, value in timestamps.items()}


def _stripe_event(event_id: str, tenant_id: str | None) -> dict:
    return {
        "event_id": event_id,
        "event_type": "invoice.paid",
        "created_at": _ts("2024-01-31T23:59:59"),
        "api_version": "2024-06-20",
        "livemode": False,
        "account": None,
        "object_type": "invoice",
        "object_id": f"in_{event_id}",
        "customer_id": "cus_1",
        "tenant_id": tenant_id,
        "payload": f'{{"id": "{event_id}"}}',
    }


def _raw_rows(*, broken_settlement: bool = False) -> dict[str, list[tuple[str, int, dict]]]:
    """Rows per dataset as (source file, source row, values)."""
    s2_refunded = 400 if broken_settlement else 500
    return {
        "settlements": [
            # s1 exported twice: locked, then released. The later updated_at wins although it
            # sits in the file that sorts first.
            ("b.jsonl", 1, _settlement("s1", "t1", "locked", 1000)),
            (
                "a.jsonl",
                1,
                _settlement(
                    "s1",
                    "t1",
                    "released",
                    1000,
                    released_amount_cents=1000,
                    resolved_at=_ts("2024-02-01T00:30:00"),
                    updated_at=_ts("2024-02-01T00:30:00"),
                ),
            ),
            (
                "a.jsonl",
                2,
                _settlement(
                    "s2",
                    "t1",
                    "refunded",
                    500,
                    refunded_amount_cents=s2_refunded,
                    dispute_status="closed",
                    resolved_at=_ts("2024-01-20T10:00:00"),
                    updated_at=_ts("2024-01-20T10:00:00"),
                ),
            ),
            ("a.jsonl", 3, _settlement("s3", "t2", "locked", 700)),
        ],
        "payout_instructions": [
            # Same key, different amounts: both survive (duplicate_expected is found later).
            ("a.jsonl", 1, _instruction("t1", "k1", 900, "2024-02-01T10:00:00")),
            ("a.jsonl", 3, _instruction("t1", "k1", 1000, "2024-02-01T09:00:00")),
            # Identical re-delivery of k2 in a second file: collapses to a.jsonl row 2.
            ("b.jsonl", 5, _instruction("t1", "k2", 300, "2024-02-01T09:00:00")),
            ("a.jsonl", 2, _instruction("t1", "k2", 300, "2024-02-01T09:00:00")),
            ("a.jsonl", 4, _instruction("t2", "k3", 700, "2024-02-01T09:00:00")),
        ],
        "money_rail_operations": [
            # o1 seen initiated, then confirmed: the confirmed state wins (from the earlier file).
            (
                "b.jsonl",
                1,
                _operation(
                    "o1",
                    "t1",
                    "k1",
                    "initiated",
                    initiated_at="2024-02-01T11:00:00",
                    updated_at="2024-02-01T11:00:00",
                ),
            ),
            (
                "a.jsonl",
                1,
                _operation(
                    "o1",
                    "t1",
                    "k1",
                    "confirmed",
                    initiated_at="2024-02-01T11:00:00",
                    submitted_at="2024-02-01T12:00:00",
                    confirmed_at="2024-02-02T08:00:00",
                    updated_at="2024-02-02T08:00:00",
                ),
            ),
            (
                "a.jsonl",
                2,
                _operation(
                    "o2",
                    "t2",
                    "k3",
                    "submitted",
                    initiated_at="2024-02-01T11:00:00",
                    submitted_at="2024-02-01T12:00:00",
                    updated_at="2024-02-01T12:00:00",
                ),
            ),
        ],
        "stripe_events": [
            # The same event pulled and pushed; t3 is a tenant seen only in billing.
            ("pull.jsonl", 1, _stripe_event("evt_1", "t3")),
            ("webhook.jsonl", 1, _stripe_event("evt_1", "t3")),
            ("pull.jsonl", 2, _stripe_event("evt_2", None)),
        ],
    }


def _build_warehouse(path: Path, rows: dict[str, list[tuple[str, int, dict]]]) -> None:
    con = duckdb.connect(str(path))
    try:
        for schema in ("marts", "intermediate", "staging", "raw"):
            con.execute(f"drop schema if exists {schema} cascade")
        con.execute("create schema raw")
        for dataset in DATASETS.values():
            con.execute(raw_table_ddl(dataset))
        con.execute(QUARANTINE_DDL)
        con.execute(LOAD_FILES_DDL)
        for name, dataset_rows in rows.items():
            columns = [column for column, _ in raw_table_columns(DATASETS[name])]
            placeholders = ", ".join("?" for _ in columns)
            for loaded_rank, (source_file, source_row, values) in enumerate(dataset_rows):
                metadata = {
                    "_source_file": f"{name}/{source_file}",
                    "_source_row": source_row,
                    "_file_sha256": "0" * 64,
                    "_loaded_at": LOADED_AT.replace(second=loaded_rank),
                }
                record = values | metadata
                con.execute(
                    f"insert into raw.{name} ({', '.join(columns)}) values ({placeholders})",
                    [record.get(column) for column in columns],
                )
        con.execute(
            "insert into raw.quarantine values "
            "('settlements', 'settlements/a.jsonl', ?, 9, 'invalid_enum', 'status', '{}', ?)",
            ["0" * 64, LOADED_AT],
        )
        con.execute(
            "insert into raw.load_files values "
            "('settlements', 'settlements/a.jsonl', ?, 'jsonl', 4, 3, 1, ?)",
            ["0" * 64, LOADED_AT],
        )
    finally:
        con.close()


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
    # so `_build_warehouse` drops and recreates the schemas instead.
    return dbt_target_dir / "settld.duckdb"


def _dbt_build(target_dir: Path, monkeypatch: pytest.MonkeyPatch, warehouse: Path):
    _dbt_env(monkeypatch, warehouse)
    return _dbt("build", target_dir)


def _not_passed(result) -> list[tuple[str, str]]:
    return sorted(
        (r.node.name, str(r.status))
        for r in result.result.results
        if str(r.status) not in ("success", "pass")
    )


def test_dbt_build_deduplicates_and_builds_marts(monkeypatch, dbt_target_dir, warehouse):
    _build_warehouse(warehouse, _raw_rows())

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
            ("t1", 2, 3, 1, 0, _ts("2024-01-10T09:00:00")),
            ("t2", 1, 1, 1, 0, _ts("2024-01-10T09:00:00")),
            ("t3", 0, 0, 0, 1, _ts("2024-01-31T23:59:59")),
        ]
    finally:
        con.close()


def test_dbt_build_fails_on_unconserved_resolved_settlement(monkeypatch, dbt_target_dir, warehouse):
    _build_warehouse(warehouse, _raw_rows(broken_settlement=True))

    result = _dbt_build(dbt_target_dir, monkeypatch, warehouse)

    assert not result.success
    assert result.exception is None, result.exception
    failed = _not_passed(result)
    assert len(failed) == 1, failed
    name, status = failed[0]
    assert name.startswith("resolved_money_is_conserved_fct_settlements"), failed
    assert status == "fail"


def test_unique_combination_finds_every_repeated_combination(monkeypatch, dbt_target_dir, warehouse):
    """The project's `unique_combination` test groups by a 64-bit hash before the real columns: a repeated
    combination must still fail it, with a null in the combination grouped like any value."""
    _build_warehouse(warehouse, _raw_rows())
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

    result = _dbt("test", dbt_target_dir, "--select", "stg_money_rails__operations,test_type:data")

    assert result.exception is None, result.exception
    failures = {r.node.name: r.failures for r in result.result.results if str(r.status) == "fail"}
    assert failures == {
        "unique_combination_stg_money_rails__operations_provider_id__operation_id": 2,
        "not_null_stg_money_rails__operations_operation_id": 2,
    }
