"""The ledger's rules (raw.load_files): statuses and reasons, replacement, duplicates, withdrawal, the row
balance counted from the file, old warehouses, the health a run reads, and the landing asset's report."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingestion import intake
from ingestion.contracts import DATASETS, LOAD_FILES_DDL
from ingestion.health import landing_health
from ingestion.loader import load_landing_zone
from settld.settings import warehouse_target
from settld.warehouse import connect
from tests.landing_rows import (
    INSTRUCTION,
    OPERATION,
    SETTLEMENT,
    ledger,
    raw_tables,
    write_csv,
    write_jsonl,
    write_parquet,
)

SETTLEMENTS = "settlements/s.jsonl"


def _settlements(landing: Path, name: str = SETTLEMENTS, count: int = 2) -> Path:
    rows = [{**SETTLEMENT, "settlement_id": f"setl_{n}"} for n in range(count)]
    return write_jsonl(landing / name, rows)


def test_a_repaired_file_loads_and_replaces_its_ledger_row(landing: Path, warehouse_path: Path) -> None:
    path = _settlements(landing)
    good = path.read_bytes()
    path.write_bytes(good.replace(b"tnt_a", b"t\xe9nt", 1))
    load_landing_zone(warehouse_path, landing)
    assert ledger(warehouse_path)[SETTLEMENTS] == ("rejected", "invalid_encoding", 0, 0, 0)

    path.write_bytes(good)
    summary = load_landing_zone(warehouse_path, landing)["settlements"]

    assert [f.status for f in summary.files] == ["loaded"]
    assert ledger(warehouse_path)[SETTLEMENTS] == ("loaded", None, 2, 2, 0)


def test_a_loaded_file_replaced_by_a_damaged_one_leaves_raw(landing: Path, warehouse_path: Path) -> None:
    path = _settlements(landing)
    load_landing_zone(warehouse_path, landing)
    path.write_bytes(b"PAR1" + path.read_bytes())  # Parquet content in a .jsonl file

    load_landing_zone(warehouse_path, landing)

    assert ledger(warehouse_path)[SETTLEMENTS][:2] == ("rejected", "wrong_format")
    assert raw_tables(warehouse_path)["settlements"] == []


def test_a_rejected_file_stays_rejected_and_is_reported_on_every_run(
    landing: Path, warehouse_path: Path
) -> None:
    (landing / "settlements").mkdir()
    (landing / "settlements/s.csv").write_text("tenant_id,tenant_id\nx,y\n")
    first = load_landing_zone(warehouse_path, landing)["settlements"]
    recorded = raw_tables(warehouse_path)["load_files"]
    with duckdb.connect(str(warehouse_path)) as con:
        before = con.execute("select loaded_at from raw.load_files").fetchall()

    again = load_landing_zone(warehouse_path, landing)["settlements"]

    assert [(f.status, f.reason) for f in first.files] == [("rejected", "malformed_header")]
    assert [f.describe() for f in again.files] == [
        "settlements/s.csv: rejected (malformed_header): column 'tenant_id' appears twice in the header"
    ]
    with duckdb.connect(str(warehouse_path)) as con:  # the row is not rewritten: freshness is not faked
        assert con.execute("select loaded_at from raw.load_files").fetchall() == before
    assert raw_tables(warehouse_path)["load_files"] == recorded


def test_withdrawn_files_keep_their_rows_only_if_they_were_loaded(
    landing: Path, warehouse_path: Path
) -> None:
    _settlements(landing, "settlements/a.jsonl")
    shutil.copy(landing / "settlements/a.jsonl", landing / "settlements/b.jsonl")
    (landing / "settlements/c.jsonl").write_bytes(b"\xff\n")
    load_landing_zone(warehouse_path, landing)
    assert {k: v[0] for k, v in ledger(warehouse_path).items()} == {
        "settlements/a.jsonl": "loaded",
        "settlements/b.jsonl": "duplicate",
        "settlements/c.jsonl": "rejected",
    }
    for name in ("a", "b", "c"):
        (landing / f"settlements/{name}.jsonl").unlink()

    load_landing_zone(warehouse_path, landing)

    assert list(ledger(warehouse_path)) == ["settlements/a.jsonl"]
    assert len(raw_tables(warehouse_path)["settlements"]) == 2


def test_a_duplicate_loads_once_its_original_changes(landing: Path, warehouse_path: Path) -> None:
    _settlements(landing, "settlements/a.jsonl")
    shutil.copy(landing / "settlements/a.jsonl", landing / "settlements/b.jsonl")
    summary = load_landing_zone(warehouse_path, landing)["settlements"]
    assert summary.files[1].describe() == (
        "settlements/b.jsonl: duplicate (duplicate_file): the same content (sha256) as settlements/a.jsonl, "
        "which is loaded"
    )
    _settlements(landing, "settlements/a.jsonl", count=1)

    load_landing_zone(warehouse_path, landing)

    assert {k: v[0] for k, v in ledger(warehouse_path).items()} == {
        "settlements/a.jsonl": "loaded",
        "settlements/b.jsonl": "loaded",
    }
    assert len(raw_tables(warehouse_path)["settlements"]) == 3


def test_files_without_records_are_never_duplicates(landing: Path, warehouse_path: Path) -> None:
    for day in ("01", "02"):
        write_csv(landing / f"payout_instructions/p-{day}.csv", [], "payout_instructions")
    summary = load_landing_zone(warehouse_path, landing)["payout_instructions"]
    assert [(f.status, f.warning) for f in summary.files] == [("loaded", "no_data_rows")] * 2
    assert summary.warnings == [
        "payout_instructions/p-01.csv: no_data_rows",
        "payout_instructions/p-02.csv: no_data_rows",
    ]


def test_a_byte_order_mark_is_stripped_in_json_lines_too(landing: Path, warehouse_path: Path) -> None:
    path = _settlements(landing)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_landing_zone(warehouse_path, landing)["settlements"].rows_loaded == 2


@pytest.mark.parametrize(
    ("content", "reason", "detail"),
    [
        (b"tenant_id\r\nx\ry\r\n", "malformed_csv", "line 2: new-line character seen in unquoted field"),
        (b"tenant_id,\nx,y\n", "malformed_header", "column 2 of the header has no name"),
        (b"tenant_id,_source_row\nx,1\n", "malformed_header", "column name '_source_row' is reserved"),
        (b'{"tenant_id": "x"}\n', "wrong_format", "line 1 is JSON, not a CSV header"),
        (b"tenant_id\nx\x00\n", "invalid_encoding", "a NUL byte at byte offset 11 (line 2)"),
        (b"\x1f\x8b\x08\x00", "wrong_format", "gzip content in a .csv file"),
    ],
)
def test_structural_faults_of_a_csv_reject_the_file(
    landing: Path, warehouse_path: Path, content: bytes, reason: str, detail: str
) -> None:
    (landing / "payout_instructions").mkdir()
    (landing / "payout_instructions/p.csv").write_bytes(content)
    (result,) = load_landing_zone(warehouse_path, landing)["payout_instructions"].files
    assert (result.status, result.reason) == ("rejected", reason)
    assert result.detail.startswith(detail)


def test_a_nul_character_in_a_parquet_string_is_refused_on_every_engine(
    landing: Path, warehouse_path: Path
) -> None:
    write_parquet(
        landing / "money_rail_operations/o.parquet", [OPERATION, {**OPERATION, "provider_ref": "a\x00"}]
    )
    (result,) = load_landing_zone(warehouse_path, landing)["money_rail_operations"].files
    assert result.describe() == (
        "money_rail_operations/o.parquet: rejected (unstorable_value): a NUL character in a text value of row 2"
    )


def test_rows_in_is_counted_from_the_file_so_a_lost_row_is_caught(
    landing: Path, warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken count path (the check drops a record) cannot commit: the counts come from two places."""
    _settlements(landing, count=3)
    checked = intake.checked_relation_sql
    monkeypatch.setattr(
        intake,
        "checked_relation_sql",
        lambda *a, **k: f"select * from ({checked(*a, **k)}) where _source_row <> 2",
    )

    (result,) = load_landing_zone(warehouse_path, landing)["settlements"].files

    assert (result.status, result.reason) == ("rejected", "row_count_mismatch")
    assert result.detail.startswith("3 records read, 2 written (2 loaded, 0 quarantined)")
    assert raw_tables(warehouse_path)["settlements"] == []


def test_an_older_ledger_gains_status_and_reason(landing: Path, warehouse_path: Path) -> None:
    with duckdb.connect(str(warehouse_path)) as con:
        con.execute("create schema raw")
        con.execute(LOAD_FILES_DDL)
        con.execute(
            "insert into raw.load_files values ('settlements', 'old.jsonl', 'x', 'jsonl', 1, 1, 0, now())"
        )
    _settlements(landing)
    load_landing_zone(warehouse_path, landing)
    assert ledger(warehouse_path) == {
        "old.jsonl": ("loaded", None, 1, 1, 0),
        SETTLEMENTS: ("loaded", None, 2, 2, 0),
    }


def test_landing_health_gives_the_run_what_it_needs_to_fail_loudly(
    landing: Path, warehouse_path: Path
) -> None:
    write_csv(landing / "money_rail_operations/o.csv", [OPERATION], "money_rail_operations")
    (landing / "money_rail_operations/o.parquet").write_bytes(b"PAR1 cut")
    bad = [{**INSTRUCTION, "payout_key": f"k{n}", "created_at": "2026-10-01 02:00:00"} for n in range(3)]
    write_csv(landing / "payout_instructions/p.csv", [INSTRUCTION, *bad], "payout_instructions")
    _settlements(landing)
    shutil.copy(landing / SETTLEMENTS, landing / "settlements/t.jsonl")
    load_landing_zone(warehouse_path, landing)

    with connect(warehouse_target(str(warehouse_path)), read_only=True) as db:
        health = landing_health(db)

    assert health["money_rail_operations"].problems == [
        "money_rail_operations: money_rail_operations/o.parquet: rejected (unreadable_parquet): "
        "truncated: 8 bytes and no Parquet footer"
    ]
    instructions = health["payout_instructions"]
    assert (instructions.rows_in, instructions.rows_loaded, instructions.rows_quarantined) == (4, 1, 3)
    assert instructions.over_threshold and instructions.quarantine_rate == 0.75
    assert instructions.problems == [
        "payout_instructions: 3 of 4 rows quarantined (75.0%), above its threshold of 10.0%; "
        "top reasons: invalid_timestamp (3)"
    ]
    (reason,) = instructions.top_reasons
    assert [s["source_row"] for s in reason.samples] == [2, 3, 4]
    assert health["settlements"].problems == [] and health["settlements"].warnings == [
        "settlements: settlements/t.jsonl: duplicate (duplicate_file): the same content (sha256) as "
        "settlements/s.jsonl, which is loaded"
    ]
    assert health["stripe_events"].problems == [] and health["stripe_events"].rows_in == 0


@pytest.mark.slow
def test_the_landing_asset_reports_files_and_fails_its_check_without_crashing(
    landing: Path, warehouse_path: Path
) -> None:
    from orchestration.defs.landing.assets import landing_zone
    from orchestration.resources import LandingZoneResource, WarehouseResource

    write_csv(landing / "money_rail_operations/o.csv", [OPERATION], "money_rail_operations")
    (landing / "money_rail_operations/o.parquet").write_bytes(b"")
    write_csv(landing / "payout_instructions/p.csv", [], "payout_instructions")

    def materialize(keep_going: bool) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [landing_zone],
            resources={
                "warehouse": WarehouseResource(url=str(warehouse_path)),
                "landing": LandingZoneResource(path=str(landing), keep_going=keep_going),
            },
            raise_on_error=False,
        )

    result = materialize(keep_going=False)
    assert not result.success  # the blocking landing_healthy checks stop the run before anything downstream
    checks = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    assert all(e.passed for (_, check), e in checks.items() if check == "rows_balance")  # nothing dropped
    failed = checks[("money_rail_operations", "landing_healthy")]
    assert not failed.passed and failed.metadata["rejected_files"].value == {
        "money_rail_operations/o.parquet": "unreadable_parquet: the file is empty (0 bytes)"
    }
    # Required datasets below their minimum: a header-only file alone, no file at all.
    assert checks[("payout_instructions", "landing_healthy")].metadata["problems"].value == [
        "payout_instructions: 0 rows loaded (1 file loaded), below its minimum of 1"
    ]
    assert checks[("settlements", "landing_healthy")].metadata["problems"].value == [
        "settlements: 0 rows loaded (no file delivered), below its minimum of 1"
    ]
    assert checks[("stripe_events", "landing_healthy")].passed  # not required
    assert all(checks[(name, "landing_healthy")].severity == dg.AssetCheckSeverity.ERROR for name in DATASETS)
    going = materialize(keep_going=True)  # SETTLD_KEEP_GOING: the same verdicts, as warnings
    assert going.success
    evaluations = {(e.asset_key.path[-1], e.check_name): e for e in going.get_asset_check_evaluations()}
    assert not evaluations[("money_rail_operations", "landing_healthy")].passed
    assert evaluations[("money_rail_operations", "landing_healthy")].severity == dg.AssetCheckSeverity.WARN
    metadata = {
        m.asset_key.path[-1]: m.metadata for m in result.asset_materializations_for_node("landing_zone")
    }
    assert metadata["money_rail_operations"]["files_rejected"].value == 1
    assert metadata["money_rail_operations"]["quarantine_rate"].value == 0.0
    assert metadata["payout_instructions"]["empty_files"].value == ["payout_instructions/p.csv"]


def test_the_settings_override_the_contracts_thresholds_and_refuse_what_cannot_be(
    landing: Path, warehouse_path: Path
) -> None:
    bad = [{**INSTRUCTION, "payout_key": f"k{n}", "created_at": "2026-10-01 02:00:00"} for n in range(3)]
    write_csv(landing / "payout_instructions/p.csv", [INSTRUCTION, *bad], "payout_instructions")
    _settlements(landing)
    load_landing_zone(warehouse_path, landing)

    with connect(warehouse_target(str(warehouse_path)), read_only=True) as db:
        contract = landing_health(db)
        overridden = landing_health(
            db, max_quarantine_rate={"payout_instructions": 0.8}, min_rows={"settlements": 3}
        )
        for rates, minimums, named in (
            ({"payouts": 0.5}, {}, "unknown landing datasets: payouts"),
            ({"settlements": 1.5}, {}, "between 0 and 1: settlements"),
            ({}, {"settlements": -1}, "0 or more: settlements"),
        ):
            with pytest.raises(ValueError, match=named):
                landing_health(db, max_quarantine_rate=rates, min_rows=minimums)

    assert (
        contract["payout_instructions"].over_threshold
        and not overridden["payout_instructions"].over_threshold
    )
    assert overridden["payout_instructions"].problems == []
    # settlements: 2 rows loaded, a minimum of 3 in the settings
    assert overridden["settlements"].problems == [
        "settlements: 2 rows loaded (1 file loaded), below its minimum of 3"
    ]
    # money-rail operations: required (contract minimum 1), no file delivered
    assert contract["money_rail_operations"].problems == [
        "money_rail_operations: 0 rows loaded (no file delivered), below its minimum of 1"
    ]


def _deletions(warehouse_path: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        return con.execute(
            "select dataset, source_file, tenant_id, payout_key, provider_id, operation_id, deleted_at "
            "from raw.load_deletions order by all"
        ).fetchall()


def _load_times(warehouse_path: Path) -> dict[str, object]:
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        return dict(con.execute("select source_file, loaded_at from raw.load_files").fetchall())


def test_rows_leaving_raw_leave_their_keys_in_the_deletions_ledger(
    landing: Path, warehouse_path: Path
) -> None:
    instructions = "payout_instructions/i.csv"
    second = {**INSTRUCTION, "payout_key": INSTRUCTION["payout_key"] + "-2"}
    write_csv(landing / instructions, [INSTRUCTION, second], "payout_instructions")
    write_jsonl(landing / "money_rail_operations/o.jsonl", [OPERATION])
    load_landing_zone(warehouse_path, landing)
    assert _deletions(warehouse_path) == []  # a first load deletes nothing

    write_csv(
        landing / instructions, [second], "payout_instructions"
    )  # corrected: the first instruction is gone
    load_landing_zone(warehouse_path, landing)
    # Every key the old file carried, the one it still carries too (its rows were swapped), at the load
    # that replaced them.
    replaced = _deletions(warehouse_path)
    assert [row[3] for row in replaced] == sorted([INSTRUCTION["payout_key"], second["payout_key"]])
    assert {row[:3] + row[4:6] for row in replaced} == {
        ("payout_instructions", instructions, "tnt_a", None, None)
    }
    assert {row[6] for row in replaced} == {_load_times(warehouse_path)[instructions]}

    (landing / "money_rail_operations/o.jsonl").write_bytes(b"PAR1 not json")  # now rejected
    load_landing_zone(warehouse_path, landing)
    keys = [row[:6] for row in _deletions(warehouse_path) if row[0] == "money_rail_operations"]
    assert keys == [("money_rail_operations", "money_rail_operations/o.jsonl", "tnt_a", OPERATION["payout_key"],
                     "wire_fedline", "mop_1")]  # fmt: skip


def test_load_times_only_grow_whatever_the_clock_says(landing: Path, warehouse_path: Path) -> None:
    from datetime import datetime

    from ingestion.loader import load_dataset, open_sink

    write_csv(landing / "payout_instructions/i.csv", [INSTRUCTION], "payout_instructions")
    load_landing_zone(warehouse_path, landing)
    (first,) = _load_times(warehouse_path).values()
    write_csv(landing / "payout_instructions/j.csv", [INSTRUCTION], "payout_instructions")
    with open_sink(warehouse_target(str(warehouse_path))) as sink:  # a clock set back a year
        load_dataset(sink, landing, DATASETS["payout_instructions"], loaded_at=datetime(2020, 1, 1))
    assert _load_times(warehouse_path)["payout_instructions/j.csv"] > first
