"""A demo as `make demo` leaves it, in a folder of its own: the session's pipeline run copied into the
layout of a fresh clone (`warehouse/settld.duckdb`, `warehouse/settld-api.sqlite3`, `artifacts/`,
`data/landing/`, `.venv` linked to the repository's), used through `SETTLD_HOME` alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from subprocess import CompletedProcess

REPO_ROOT = Path(__file__).resolve().parent.parent


def demo_home(pipeline_run: dict, home: Path) -> Path:
    from orchestration.as_of import parse_as_of
    from settld.cli.run_record import record_run
    from settld.settings import Settings, warehouse_target

    (home / "warehouse").mkdir(parents=True)
    shutil.copy(pipeline_run["warehouse"], home / "warehouse" / "settld.duckdb")
    shutil.copy(pipeline_run["root"] / "api.sqlite3", home / "warehouse" / "settld-api.sqlite3")
    shutil.copytree(pipeline_run["artifacts"], home / "artifacts")
    shutil.copytree(pipeline_run["landing"], home / "data" / "landing")
    (home / ".venv").symlink_to(REPO_ROOT / ".venv")
    settings = Settings(home=home)  # `settld run` records its dbt vars beside the warehouse: so here
    as_of = parse_as_of(pipeline_run["manifest"]["as_of"])
    record_run(settings, warehouse_target(settings.warehouse_url), as_of=as_of)
    return home


def artifact_names(root: Path) -> list[str]:
    """Every file a run, gate or close wrote under `root`, sorted. Great-expectations' Data Docs are HTML
    pages for people, outside every hash and bundle: not compared."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and "data_docs" not in p.parts)  # fmt: skip


def demo_environment(home: Path) -> dict[str, str]:
    """The environment of a shell after `make demo`: no Settld or Stripe variable but `SETTLD_HOME` (the
    folder standing for the clone), the venv on PATH as the make targets have it."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("SETTLD_", "STRIPE_")) and key != "DAGSTER_HOME"}  # fmt: skip
    env["PATH"] = f"{REPO_ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return {**env, "SETTLD_HOME": str(home)}


# The demo's tenant and month that the close tests gate and close.
DEMO_TENANT, DEMO_PERIOD = "tnt_acme", "2026-10"


def settld_in(
    home: Path, *args: str, warehouse: str | None = None, env: dict[str, str] | None = None
) -> CompletedProcess[str]:
    """`settld ARGS` as a user in `home` types it; with `warehouse`, on that warehouse (`SETTLD_WAREHOUSE_URL`,
    a Spark session on two cores, where a whole run takes minutes); `env`: more settings for the shell."""
    env = {**demo_environment(home), "COLUMNS": "200", **(env or {})}
    if warehouse:
        env |= {"SETTLD_WAREHOUSE_URL": warehouse, "SETTLD_SPARK_MASTER": "local[2]"}
    return subprocess.run([sys.executable, "-m", "settld.cli.main", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=1800 if warehouse else 600, check=False)  # fmt: skip


def succeeded(completed: CompletedProcess[str]) -> str:
    """The command's output, after asserting it exited 0 (else its output's end is the failure)."""
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-6000:]
    return completed.stdout


def triage_serious(home: Path) -> None:
    """Dismiss the demo's injected critical and high mismatches of October for tnt_acme, as an operator would
    before a close (through the CLI, into the home's operator API database)."""
    listed = succeeded(settld_in(home, "mismatches", "--period", DEMO_PERIOD, "--tenant", DEMO_TENANT,
                                 "--severity", "critical", "--severity", "high", "--unhandled", "--json"))  # fmt: skip
    keys = [row["triage_key"] for row in json.loads(listed)]
    assert keys, "the demo data injects serious mismatches"
    succeeded(settld_in(home, "triage", *keys, "--tenant", DEMO_TENANT, "--status", "dismissed",
                        "--owner", "finance-oncall", "--resolution", "Injected by settld generate (demo data)"))  # fmt: skip


def gate_and_close(home: Path, warehouse: str | None = None) -> Path:
    """Gate and close October for tnt_acme; the path of the evidence bundle the close printed last."""
    succeeded(settld_in(home, "gate", "--period", DEMO_PERIOD, "--tenant", DEMO_TENANT, warehouse=warehouse))
    closed = succeeded(
        settld_in(home, "period", "close", DEMO_PERIOD, "--tenant", DEMO_TENANT, warehouse=warehouse)
    )
    return Path(closed.strip().splitlines()[-1])
