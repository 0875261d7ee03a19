"""`settld generate` + `settld run` on a real DuckDB file: schemas, quarantine, idempotent reruns."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from settld.cli.main import app

pytestmark = pytest.mark.slow


def snapshot_tables(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table and view of every schema, rows sorted, for equality checks across runs."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by all"
        ).fetchall()
        return {
            f"{s}.{t}": con.execute(f'select * from "{s}"."{t}" order by all').fetchall() for s, t in names
        }


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("e2e")
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    runner = CliRunner()
    generated = runner.invoke(app, ["generate", "--out", str(landing), "--tenants", "3", "--seed", "11"])
    assert generated.exit_code == 0, generated.output
    first = runner.invoke(app, ["run", "--landing", str(landing), "--warehouse", str(warehouse)])
    assert first.exit_code == 0, first.output
    tables = snapshot_tables(warehouse)
    second = runner.invoke(app, ["run", "--landing", str(landing), "--warehouse", str(warehouse)])
    return {
        "landing": landing,
        "warehouse": warehouse,
        "first": first,
        "second": second,
        "tables": tables,
        "manifest": json.loads((landing / "manifest.json").read_text()),
    }


def test_run_creates_the_layers_and_prints_the_summary(pipeline_run: dict) -> None:
    schemas = {name.split(".")[0] for name in pipeline_run["tables"]}
    assert {"raw", "staging", "marts"} <= schemas
    output = pipeline_run["first"].output
    assert "Raw layer" in output and "Marts" in output and "marts.fct_settlements" in output


def test_every_generated_row_is_loaded_or_quarantined(pipeline_run: dict) -> None:
    tables, manifest = pipeline_run["tables"], pipeline_run["manifest"]
    for dataset, info in manifest["datasets"].items():
        loaded = len(tables[f"raw.{dataset}"])
        quarantined = sum(1 for row in tables["raw.quarantine"] if row[0] == dataset)
        assert loaded + quarantined == info["rows"], dataset


def test_quarantine_holds_exactly_the_injected_malformed_rows(pipeline_run: dict) -> None:
    quarantined = sorted((r[0], r[1], r[3], r[4], r[5]) for r in pipeline_run["tables"]["raw.quarantine"])
    injected = sorted(
        (m["dataset"], m["file"], m["row"], m["reason_code"], m["column"])
        for m in pipeline_run["manifest"]["malformed"]["rows"]
    )
    assert injected and quarantined == injected


def test_rerunning_on_the_same_files_leaves_every_table_identical(pipeline_run: dict) -> None:
    assert pipeline_run["second"].exit_code == 0, pipeline_run["second"].output
    assert snapshot_tables(pipeline_run["warehouse"]) == pipeline_run["tables"]
