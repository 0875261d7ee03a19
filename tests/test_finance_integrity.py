"""Finance integrity end to end (issue #21) on the shared pipeline's data: the GL against the party
statements and the escrow net close find every injected problem and nothing else, the hand-written floor
query agrees with the marts, the findings reach the one triage queue and block the gate until triaged, a
triage survives `settld run`, and the bundle of a closed period holds both finance reports and verifies.
The checks on the shared pipeline's marts run in make test; those that run the pipeline again, and the
million-postings run, are drills (make test-drills)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from api.core.migrate import migrate_database
from api.core.settings import ApiSettings
from api.main import create_app
from devtools.bench.finance_floor import FINANCE_TYPES_SQL, run_finance_floor
from settld.cli.main import app
from tests.api.factories import Factory

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

COLUMNS = "tenant_id, period, provider_id, mismatch_type, mismatch_key"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _marts(warehouse: Path) -> set[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return set(
            con.execute(f"select {COLUMNS} from marts.fct_finance_reconciliation_mismatches").fetchall()
        )


def _injected(landing: Path) -> set[tuple]:
    with duckdb.connect() as con:
        return set(
            con.execute(
                f"select {COLUMNS} from read_csv('{landing / 'injected.csv'}', all_varchar = true) "
                f"where mismatch_type in ({FINANCE_TYPES_SQL})"
            ).fetchall()
        )


def test_every_injected_finance_problem_is_found_and_nothing_else(pipeline_run: dict) -> None:
    found, injected = _marts(pipeline_run["warehouse"]), _injected(pipeline_run["landing"])
    assert found == injected
    assert {row[3] for row in found} >= {"gl_batch_missing", "statements_missing", "gl_not_zero_sum",
                                         "gl_hash_mismatch", "totals_mismatch", "entry_ids_mismatch",
                                         "statement_period_mismatch", "statement_basis_mismatch",
                                         "held_rollforward_missing", "held_rollforward_invalid",
                                         "held_rollforward_ledger_mismatch",
                                         "ledger_unclassified_escrow_adjustment"}  # fmt: skip
    with duckdb.connect(str(pipeline_run["warehouse"]), read_only=True) as con:
        statuses = dict(con.execute(
            "select tenant_id || ' ' || period, min(status) from marts.fct_escrow_net_close group by 1"
        ).fetchall())  # fmt: skip
    assert statuses["tnt_initech 2026-10"] == "not_closable"  # open in the kernel: reported, not skipped


def test_the_finance_floor_agrees_with_the_marts(pipeline_run: dict, tmp_path: Path) -> None:
    arguments = pipeline_run["manifest"]["arguments"]
    landing = tmp_path / "parquet"  # the same books (no malformed rows in them), as Parquet for the floor
    generated = CliRunner().invoke(app, ["generate", "--out", str(landing), "--tenants", str(arguments["tenants"]),
                                         "--seed", str(arguments["seed"]), "--format", "parquet"])  # fmt: skip
    assert generated.exit_code == 0, generated.output
    run_finance_floor(landing, tmp_path / "floor.parquet")
    with duckdb.connect() as con:
        floor = set(
            con.execute(f"select {COLUMNS} from read_parquet('{tmp_path / 'floor.parquet'}')").fetchall()
        )
    assert floor == _marts(pipeline_run["warehouse"]) and floor


def _settld(env: dict, *args: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env, "COLUMNS": "200"}
    full.pop("DAGSTER_HOME", None)
    return subprocess.run([sys.executable, "-m", "settld.cli.main", *args], cwd=REPO_ROOT, env=full,
                          capture_output=True, text=True, timeout=900, check=False)  # fmt: skip


@pytest.mark.drill
def test_gl_findings_block_the_gate_until_triaged_and_triage_survives_a_run(
    pipeline_run: dict, tmp_path: Path
) -> None:
    root = tmp_path / "run"
    root.mkdir()
    shutil.copy(pipeline_run["warehouse"], root / "warehouse.duckdb")
    shutil.copytree(pipeline_run["artifacts"], root / "artifacts")
    shutil.copy(pipeline_run["root"] / "api.sqlite3", root / "api.sqlite3")
    env = {"SETTLD_WAREHOUSE_URL": str(root / "warehouse.duckdb"), "SETTLD_ARTIFACTS_DIR": str(root / "artifacts"),
           "SETTLD_API_DATABASE_URL": f"sqlite:///{root / 'api.sqlite3'}",
           "SETTLD_LANDING_DIR": str(pipeline_run["landing"])}  # fmt: skip
    migrate_database(env["SETTLD_API_DATABASE_URL"])
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        tenant, period, key = con.execute(
            "select tenant_id, period, triage_key from marts.fct_finance_reconciliation_mismatches "
            "where source_type = 'finance_reconcile' and severity = 'critical' order by tenant_id, period limit 1"
        ).fetchone()
    gate = _settld(env, "gate", "--period", period, "--tenant", tenant)
    verdict = json.loads((root / "artifacts" / "gates" / tenant / f"{period}.json").read_text())
    assert (
        gate.returncode == 1
        and "finance.gl_ties_out_with_statements" in verdict["verdict"]["failingCheckIds"]
    )
    gl_check = next(c for c in verdict["checks"] if c["id"] == "finance.gl_ties_out_with_statements")
    assert key in gl_check["details"]["examples"]

    token = Factory(env["SETTLD_API_DATABASE_URL"]).key(tenant, "finance_read", "finance_write")
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(ApiSettings(database_url=env["SETTLD_API_DATABASE_URL"]))) as client:
        queue = client.get("/ops/finance/reconciliation/queue", headers=headers,
                           params={"period": period, "source_type": "finance_reconcile", "limit": 500}).json()  # fmt: skip
        assert key in {item["triage_key"] for item in queue["items"]}
        assert {item["source_type"] for item in queue["items"]} == {"finance_reconcile"}
        triaged = client.post("/ops/finance/reconciliation/triage", headers=headers,
                              json={"triage_key": key, "status": "resolved", "owner": "finance-oncall",
                                    "resolution": "Kernel re-exported the batch"})  # fmt: skip
        assert triaged.status_code == 200, triaged.text

    rerun = _settld(env, "run", "--landing", str(pipeline_run["landing"]), "--as-of", "manifest")
    assert rerun.returncode in (0, 1), rerun.stdout + rerun.stderr  # 1: gates stay red elsewhere
    with TestClient(create_app(ApiSettings(database_url=env["SETTLD_API_DATABASE_URL"]))) as client:
        queue = client.get("/ops/finance/reconciliation/queue", headers=headers,
                           params={"period": period, "source_type": "finance_reconcile", "limit": 500}).json()  # fmt: skip
    item = next(i for i in queue["items"] if i["triage_key"] == key)
    assert item["status"] == "resolved"
    verdict = json.loads((root / "artifacts" / "gates" / tenant / f"{period}.json").read_text())
    gl_check = next(c for c in verdict["checks"] if c["id"] == "finance.gl_ties_out_with_statements")
    assert key not in gl_check["details"]["examples"]


@pytest.mark.drill
def test_at_a_million_postings_the_floor_and_the_marts_find_every_injected_problem_and_nothing_else(
    tmp_path: Path,
) -> None:
    landing = tmp_path / "big"
    generated = CliRunner().invoke(app, ["generate", "--out", str(landing), "--tenants", "3", "--scale", "240",
                                         "--seed", "3", "--format", "parquet", "--no-malformed"])  # fmt: skip
    assert generated.exit_code == 0, generated.output
    manifest = json.loads((landing / "manifest.json").read_text())
    assert manifest["datasets"]["ledger_postings"]["rows"] >= 1_000_000
    run_finance_floor(landing, tmp_path / "floor.parquet")
    with duckdb.connect() as con:
        floor = set(
            con.execute(f"select {COLUMNS} from read_parquet('{tmp_path / 'floor.parquet'}')").fetchall()
        )
    injected = _injected(landing)
    assert floor == injected and floor
    # The whole pipeline on the same files, default settings: the marts agree.
    warehouse = tmp_path / "big.duckdb"
    env = {"SETTLD_ARTIFACTS_DIR": str(tmp_path / "artifacts"), "SETTLD_HOME": str(tmp_path / "home"),
           "SETTLD_API_DATABASE_URL": f"sqlite:///{tmp_path / 'api.sqlite3'}"}  # fmt: skip
    assert _settld(env, "api", "migrate").returncode == 0
    run = _settld(env, "run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", "manifest")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert _marts(warehouse) == injected
