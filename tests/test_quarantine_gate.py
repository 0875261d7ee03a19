"""Quarantined rows reach the period gate: a sick file (over its dataset's threshold) blocks, a few bad
rows warn, and both name the file, the counts and the reasons."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from ingestion.contracts import DATASETS, LOAD_FILES_DDL, QUARANTINE_DDL
from ingestion.duckdb_sink import ensure_raw_schema
from quality.gate import quarantine_checks
from quality.quarantine import quarantined_files
from settld.settings import warehouse_target
from settld.warehouse import connect

LOADED_AT = datetime(2026, 11, 2)
# (dataset, file, rows_in, quarantined reasons)
FILES = [
    ("settlements", "settlements/s-2026-10.jsonl", 100, ["invalid_json"]),  # 1 %: a warning
    ("money_rail_operations", "money_rail_operations/o-2026-10.csv", 20, ["invalid_timestamp"] * 20),  # sick
    ("payout_instructions", "payout_instructions/p-2026-10.csv", 50, []),
]


def _warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute(LOAD_FILES_DDL)
        con.execute(QUARANTINE_DDL)
        for dataset, name, rows_in, reasons in FILES:
            con.execute("insert into raw.load_files values (?, ?, 'sha', 'csv', ?, ?, ?, ?)",
                        [dataset, name, rows_in, rows_in - len(reasons), len(reasons), LOADED_AT])  # fmt: skip
            for row, reason in enumerate(reasons, start=1):
                con.execute("insert into raw.quarantine values (?, ?, 'sha', ?, ?, 'why', '{}', ?)",
                            [dataset, name, row, reason, LOADED_AT])  # fmt: skip
        ensure_raw_schema(con)  # the ledger's later columns, as on an upgraded warehouse: rows read 'loaded'
    return path


def test_a_sick_file_blocks_and_a_few_bad_rows_warn(tmp_path: Path) -> None:
    with connect(warehouse_target(str(_warehouse(tmp_path / "w.duckdb"))), read_only=True) as db:
        sick, warned = quarantined_files(db)
        checks = {check.id: check for check in quarantine_checks(db)}
    assert [f["sourceFile"] for f in sick] == ["money_rail_operations/o-2026-10.csv"]
    assert sick[0]["reasons"] == {"invalid_timestamp": 20} and sick[0]["rowsQuarantined"] == 20
    assert sick[0]["maxQuarantineRatePercent"] == DATASETS["money_rail_operations"].max_quarantine_rate * 100
    assert [(f["sourceFile"], f["reasons"]) for f in warned] == [
        ("settlements/s-2026-10.jsonl", {"invalid_json": 1})
    ]
    blocking, warning = (
        checks["landing.files_within_quarantine_threshold"],
        checks["landing.no_quarantined_rows"],
    )
    assert blocking.blocking and not blocking.ok
    assert not warning.blocking and not warning.ok


def test_a_clean_landing_zone_passes(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute(LOAD_FILES_DDL)
        con.execute(QUARANTINE_DDL)
        ensure_raw_schema(con)
    with connect(warehouse_target(str(path)), read_only=True) as db:
        assert all(check.ok for check in quarantine_checks(db))


def test_a_rejected_file_blocks_every_gate_and_the_settings_threshold_is_the_runs(tmp_path: Path) -> None:
    path = _warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute(
            "insert into raw.load_files (dataset, source_file, file_sha256, file_format, rows_in, rows_loaded, "
            "rows_quarantined, loaded_at, status, reason, reason_detail) values ('money_rail_operations', "
            "'money_rail_operations/o.parquet', 'sha', 'parquet', 0, 0, 0, ?, 'rejected', 'unreadable_parquet', "
            "'truncated: 8 bytes and no Parquet footer')",
            [LOADED_AT],
        )
    with connect(warehouse_target(str(path)), read_only=True) as db:
        checks = {check.id: check for check in quarantine_checks(db)}
        loose = {c.id: c for c in quarantine_checks(db, {"money_rail_operations": 1.0})}
    rejected = checks["landing.no_rejected_files"]
    assert rejected.blocking and not rejected.ok
    assert rejected.details["files"] == [
        {"dataset": "money_rail_operations", "sourceFile": "money_rail_operations/o.parquet",
         "reason": "unreadable_parquet", "reasonDetail": "truncated: 8 bytes and no Parquet footer"}
    ]  # fmt: skip
    # The run's override (SETTLD_MAX_QUARANTINE_RATE) is the gate's: the 100 % file is then within it.
    assert loose["landing.files_within_quarantine_threshold"].ok
    assert [f["sourceFile"] for f in loose["landing.no_quarantined_rows"].details["files"]] == [
        "money_rail_operations/o-2026-10.csv", "settlements/s-2026-10.jsonl"
    ]  # fmt: skip
    assert not loose["landing.no_rejected_files"].ok
