"""A demo as `make demo` leaves it, in a folder of its own: the session's pipeline run copied into the
layout of a fresh clone (`warehouse/settld.duckdb`, `warehouse/settld-api.sqlite3`, `artifacts/`,
`data/landing/`, `.venv` linked to the repository's), used through `SETTLD_HOME` alone."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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


def demo_environment(home: Path) -> dict[str, str]:
    """The environment of a shell after `make demo`: no Settld or Stripe variable but `SETTLD_HOME` (the
    folder standing for the clone), the venv on PATH as the make targets have it."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("SETTLD_", "STRIPE_")) and key != "DAGSTER_HOME"}  # fmt: skip
    env["PATH"] = f"{REPO_ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return {**env, "SETTLD_HOME": str(home)}
