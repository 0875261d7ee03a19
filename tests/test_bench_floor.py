"""The bench's yardsticks on a small Parquet landing zone: the floor query finds exactly the generator's
injected mismatches, and the copy floor copies every input row."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from devtools.bench.copy_inputs import copy_inputs
from devtools.bench.floor import MONEY_RAIL_TYPES_SQL, run_floor
from settld.cli.main import app

COLUMNS = "tenant_id, period, provider_id, mismatch_type, mismatch_key"


def _generate(landing: Path) -> dict:
    result = CliRunner().invoke(
        app, ["generate", "--out", str(landing), "--tenants", "3", "--scale", "2", "--seed", "5",
              "--format", "parquet", "--no-malformed"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads((landing / "manifest.json").read_text())


def _found_and_injected(out: Path, landing: Path, types_sql: str) -> tuple[set, set]:
    """The floor's rows and the answer key's rows of the given types."""
    with duckdb.connect() as con:
        found = set(con.execute(f"select {COLUMNS} from read_parquet('{out}')").fetchall())
        injected = set(
            con.execute(
                f"select {COLUMNS} from read_csv('{landing / 'injected.csv'}', all_varchar = true) "
                f"where mismatch_type in ({types_sql})"
            ).fetchall()
        )
    return found, injected


def test_the_floor_finds_exactly_the_injected_mismatches(landing: Path, tmp_path: Path) -> None:
    manifest = _generate(landing)
    out = tmp_path / "floor.parquet"

    figures = run_floor(landing, manifest["as_of"], out)

    found, injected = _found_and_injected(out, landing, MONEY_RAIL_TYPES_SQL)
    assert figures["rows"] == len(found) > 0
    assert found == injected
    assert {row[3] for row in found} >= {"missing_operation", "duplicate_operation", "unexpected_operation"}

    # Under a memory limit (as `settld bench` times it a second time), the same rows.
    bounded = tmp_path / "floor-bounded.parquet"
    assert run_floor(landing, manifest["as_of"], bounded, memory_limit="256MB")["memory_limit"] == "244.1 MiB"
    with duckdb.connect() as con:
        assert set(con.execute(f"select {COLUMNS} from read_parquet('{bounded}')").fetchall()) == found


def test_the_copy_floor_copies_every_input_row(landing: Path, tmp_path: Path) -> None:
    manifest = _generate(landing)
    out = tmp_path / "copy.duckdb"

    figures = copy_inputs(landing, out)
    again = copy_inputs(landing, out)  # a second copy replaces the first

    expected = {name: manifest["datasets"][name]["rows"] for name in figures["rows"]}
    assert figures["rows"] == again["rows"] == expected
    assert all(rows > 0 for rows in expected.values())


def test_the_finance_floor_finds_exactly_the_injected_gl_and_escrow_problems(
    landing: Path, tmp_path: Path
) -> None:
    from devtools.bench.finance_floor import FINANCE_TYPES_SQL, run_finance_floor

    _generate(landing)
    out = tmp_path / "finance-floor.parquet"
    figures = run_finance_floor(landing, out)
    found, injected = _found_and_injected(out, landing, FINANCE_TYPES_SQL)
    assert figures["rows"] == len(found) > 0 and found == injected
