"""`settld dbt`: dbt on the project with the target, profile and vars the last `settld run` recorded, so
`settld dbt build` after a run leaves every table as the run built it (a bare `dbt build` would build as
of now and without the operator API's tables)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from settld.cli.main import app
from settld.cli.run_record import RECORD_FILE, _split_vars
from tests.warehouse_snapshots import snapshot_tables

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.drill
@pytest.mark.xdist_group("pipeline")
def test_dbt_build_after_a_run_leaves_the_warehouse_identical(pipeline_run: dict, tmp_path: Path) -> None:
    record = json.loads((pipeline_run["root"] / RECORD_FILE).read_text())
    assert record["asOf"] == pipeline_run["manifest"]["as_of"]
    assert record["dbtVars"]["operator_api_sqlite_path"] == str(
        (pipeline_run["root"] / "api.sqlite3").resolve()
    )
    # A private copy of the run's warehouse, with the run's record beside it naming the copy.
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(pipeline_run["warehouse"], warehouse)
    (tmp_path / RECORD_FILE).write_text(json.dumps({**record, "warehouse": str(warehouse.resolve())}))
    env = {key: value for key, value in os.environ.items() if not key.startswith("SETTLD_")}
    env.update(SETTLD_WAREHOUSE_URL=str(warehouse), SETTLD_HOME=str(tmp_path))
    built = subprocess.run(
        [sys.executable, "-m", "settld.cli.main", "dbt", "build", "--target-path", str(tmp_path / "target")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert f"as of {record['asOf']}" in built.stdout
    assert snapshot_tables(warehouse) == pipeline_run["tables"]


def test_dbt_without_a_recorded_run_says_to_run_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SETTLD_WAREHOUSE_URL", str(tmp_path / "warehouse.duckdb"))
    result = CliRunner().invoke(app, ["dbt", "build"], env={"COLUMNS": "200"})
    assert result.exit_code == 1 and "run `settld run` first" in " ".join(result.output.split())


def test_dbt_refuses_a_record_of_another_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / RECORD_FILE).write_text(json.dumps({"warehouse": "/elsewhere/settld.duckdb", "dbtVars": {}}))
    monkeypatch.setenv("SETTLD_WAREHOUSE_URL", str(tmp_path / "warehouse.duckdb"))
    result = CliRunner().invoke(app, ["dbt", "build"], env={"COLUMNS": "200"})
    assert result.exit_code == 1 and "/elsewhere/settld.duckdb" in result.output


def test_vars_given_to_settld_dbt_override_the_recorded_ones() -> None:
    args, given = _split_vars(["build", "--vars", '{"reconciliation_grace_days": 3}', "--select", "marts"])
    assert args == ["build", "--select", "marts"] and given == {"reconciliation_grace_days": 3}
    assert _split_vars(["run", "--vars=as_of: '2026-11-01 00:00:00'"])[1] == {"as_of": "2026-11-01 00:00:00"}


def test_the_as_of_reaches_dbt_in_the_environment_not_in_its_vars() -> None:
    # dbt re-parses the whole project when its vars change; the as-of changes every run (issue 22).
    from settld.settings import DBT_AS_OF_ENVIRONMENT, split_as_of

    recorded = {"as_of": "2026-11-03 00:00:00.000000", "reconciliation_grace_days": 7}
    assert split_as_of(recorded) == (
        {"reconciliation_grace_days": 7},
        {DBT_AS_OF_ENVIRONMENT: "2026-11-03 00:00:00.000000"},
    )
    assert split_as_of({"reconciliation_grace_days": 7}) == ({"reconciliation_grace_days": 7}, {})
    macro = (REPO_ROOT / "dbt_project" / "macros" / "reconciliation.sql").read_text()
    assert f'var("as_of", env_var("{DBT_AS_OF_ENVIRONMENT}"' in macro  # a var still wins (unit tests)
