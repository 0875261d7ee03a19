"""`settld run` on a sick landing zone (issue 27): it stops after loading, before dbt, exits 1 and says why
(one line per rejected file or sick dataset, the top quarantine reasons with sample rows, the run log's
path, no stack trace); the run log holds the error. On a small generated zone (one tenant, one period).

The loader-level damage table is tests/test_loader_damage.py (every damage, with the verdict the run
takes from ingestion.health); here the CLI runs for a representative few. The runs that stop at the load
take about 10 s each; the drill at the end runs dbt four times (about 4 min) and is in make test-drills.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from devtools.sample_data import generate_landing_zone
from settld.cli.main import app

pytestmark = pytest.mark.slow

OPS = "money_rail_operations"
CSV = f"{OPS}/operations-wire_fedline-2026-09.csv"
JSONL = f"{OPS}/operations-stripe_connect-2026-09.jsonl"
PARQUET = f"{OPS}/operations-usdc_circle-2026-09.parquet"
ISO = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})Z")
ENVIRONMENT = ("SETTLD_WAREHOUSE_URL", "SETTLD_LANDING_DIR", "SETTLD_ARTIFACTS_DIR", "SETTLD_API_DATABASE_URL",
               "SETTLD_API_ARTIFACTS_DIR", "SETTLD_KEEP_GOING", "SETTLD_MAX_QUARANTINE_RATE",
               "SETTLD_MIN_ROWS", "STRIPE_API_KEY", "DAGSTER_HOME")  # fmt: skip


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("zone") / "landing"
    generate_landing_zone(root, tenants=1, periods=["2026-09"])
    return root


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: Path) -> Path:
    """A SETTLD_HOME with the generated zone as its landing zone and a migrated operator API."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SETTLD_HOME", str(tmp_path))
    shutil.copytree(zone, tmp_path / "data" / "landing")
    assert CliRunner().invoke(app, ["api", "migrate"]).exit_code == 0
    return tmp_path


def run(*args: str, as_of: str = "manifest") -> tuple[int, str]:
    result = CliRunner().invoke(app, ["run", "--as-of", as_of, *args], env={"COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def space_timestamps(landing: Path) -> int:
    """Every money-rail timestamp written `2026-09-01 02:00:00` instead of ISO-8601; returns the rows."""
    rows = 0
    for path in sorted((landing / OPS).iterdir()):
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
            frame.with_columns(pl.col(pl.String).str.replace_all(ISO.pattern, "$1 $2")).write_parquet(path)
            rows += frame.height
        else:
            text = path.read_text()
            path.write_text(ISO.sub(r"\1 \2", text))
            rows += len(text.splitlines()) - (path.suffix == ".csv")
    return rows


def assert_stopped_before_dbt(home: Path, output: str) -> str:
    """No stack trace, the run log named and holding the report, no mart built; returns the log."""
    assert "Traceback" not in output and "dagster._core" not in output
    log_path = home / "warehouse" / "settld-run.log"
    assert f"Full run log: {log_path}" in " ".join(output.split())
    log = log_path.read_text()
    assert "The landing zone is not fit to build on:" in log and "landing_healthy" in log
    import duckdb

    with duckdb.connect(str(home / "warehouse" / "settld.duckdb"), read_only=True) as con:
        schemas = {
            row[0] for row in con.execute("select schema_name from information_schema.schemata").fetchall()
        }
    assert "marts" not in schemas
    return log


def test_a_dataset_quarantined_whole_stops_the_run_naming_the_dataset_the_reason_and_the_threshold(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = space_timestamps(home / "data" / "landing")

    code, output = run()

    assert code == 1
    flat = " ".join(output.split())
    assert f"{OPS}: {rows} of {rows} rows quarantined (100.0%), above its threshold of 10.0%" in flat
    assert "top reasons: invalid_timestamp" in flat
    assert re.search(
        rf"{OPS}/\S+ row \d+: initiated_at='\d\d\d\d-\d\d-\d\d \d\d:\d\d:\d\d' in ", flat
    )  # a sample
    log = assert_stopped_before_dbt(home, output)
    assert "above its threshold of 10.0%" in log

    # A looser threshold in the settings lets the rate pass, but a required dataset without a row still stops.
    monkeypatch.setenv("SETTLD_MAX_QUARANTINE_RATE", '{"money_rail_operations": 1.0}')
    code, output = run()
    assert code == 1
    assert f"{OPS}: 0 rows loaded (3 files loaded), below its minimum of 1" in " ".join(output.split())


def test_a_rejected_file_stops_the_run_naming_the_file_its_status_and_reason(home: Path) -> None:
    path = home / "data" / "landing" / CSV
    path.write_bytes(path.read_bytes().replace(b"USD", "USD\u00e9".encode("latin-1"), 1))

    code, output = run()

    assert code == 1
    assert f"{OPS}: {CSV}: rejected (invalid_encoding): byte 0xe9 at byte offset" in " ".join(output.split())
    assert_stopped_before_dbt(home, output)


def test_an_empty_landing_zone_says_so_and_stops(home: Path) -> None:
    landing = home / "data" / "landing"
    shutil.rmtree(landing)
    landing.mkdir()

    code, output = run(as_of="2026-10-03T00:00:00Z")

    flat = " ".join(output.split())
    assert code == 1 and f"The landing zone {landing} is empty" in flat
    for dataset in ("settlements", "payout_instructions", OPS):
        assert f"{dataset}: 0 rows loaded (no file delivered), below its minimum of 1" in flat
    assert_stopped_before_dbt(home, output)


def _comparable(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table's rows, without the load instants (the moment a file was loaded), the instant the
    operator API stored a landed Stripe event (`received_at`, a fact of the API's own database), dbt's
    own record of its runs (audit) and the log of rows that left raw (`load_deletions`, history like the
    run log: a repaired zone's runs deleted rows a clean run never loaded): what two runs of the same
    files must agree on."""
    import duckdb

    clocked = ("loaded_at", "_loaded_at", "loaded_period", "received_at")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema <> 'audit' and table_name not like '%load_deletions' "
            "order by table_schema, table_name, ordinal_position"
        ).fetchall():
            columns.setdefault((schema, table), []).append(column)
        return {
            f"{schema}.{table}": con.execute(
                f"select {', '.join(f'{chr(34)}{c}{chr(34)}' for c in names if c not in clocked)} "
                f'from "{schema}"."{table}" order by all'
            ).fetchall()
            for (schema, table), names in columns.items()
        }


@pytest.mark.drill
def test_empty_files_warn_keep_going_builds_and_a_repaired_zone_equals_a_clean_run(
    home: Path, zone: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing = home / "data" / "landing"
    # A header-only CSV and an empty JSON Lines file: loaded with 0 rows, the run passes with a warning.
    (landing / CSV).write_text((landing / CSV).read_text().splitlines()[0] + "\n")
    (landing / JSONL).write_bytes(b"")
    code, output = run()
    flat = " ".join(output.split())
    assert code == 0, output
    assert "Landing warnings:" in flat
    assert f"{OPS}: {CSV}: loaded, no data rows" in flat and f"{OPS}: {JSONL}: loaded, no data rows" in flat
    assert re.search(
        r"settlements: \d+ of \d+ rows quarantined \(\d+\.\d%\), within its threshold of 10\.0%", flat
    )

    # A truncated Parquet file, with --keep-going: the marts are built on the rest, and the run exits 1.
    (landing / PARQUET).write_bytes((landing / PARQUET).read_bytes()[:100])
    code, output = run("--keep-going")
    flat = " ".join(output.split())
    assert code == 1 and "Traceback" not in output
    assert f"{OPS}: {PARQUET}: rejected (unreadable_parquet)" in flat
    assert "build_warehouse: dbt build: staging, marts and tests done" in flat
    assert f"left out of the marts: {PARQUET} (unreadable_parquet)" in flat

    # Repaired: the files as delivered. A rerun into the same warehouse equals a clean run's.
    shutil.rmtree(landing)
    shutil.copytree(zone, landing)
    code, output = run()
    assert code == 0, output
    repaired = _comparable(home / "warehouse" / "settld.duckdb")
    clean_home = tmp_path_factory.mktemp("clean")
    monkeypatch.setenv("SETTLD_HOME", str(clean_home))
    shutil.copytree(zone, clean_home / "data" / "landing")
    assert CliRunner().invoke(app, ["api", "migrate"]).exit_code == 0
    code, output = run()
    assert code == 0, output
    assert repaired == _comparable(clean_home / "warehouse" / "settld.duckdb")
