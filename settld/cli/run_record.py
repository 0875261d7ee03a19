"""What the last `settld run` used, kept beside its warehouse, and `settld dbt`, which builds with it.

dbt's marts depend on more than the SQL: the run's as-of instant (staleness, ages), the grace period and
where the operator API's tables are (triage, Stripe). A bare `dbt build` takes none of them, so it would
rebuild the marts as of now and without the API, silently changing them. `settld run` records the vars of
its dbt build in `settld-run.json` (beside a DuckDB warehouse; under `SETTLD_HOME`'s warehouse/ for
Postgres) and `settld dbt ARGS...` runs dbt on the project with the same target, profile environment and
vars, so `settld dbt build` reproduces the marts of that run.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.markup import escape

from settld.core import atomic_write
from settld.settings import (
    Settings,
    WarehouseTarget,
    dbt_environment,
    dbt_vars,
    display_url,
    split_as_of,
    warehouse_target,
)

RECORD_FILE = "settld-run.json"
RECORD_SCHEMA = "SettldRunRecord.v1"
console = Console()


def warehouse_display(target: WarehouseTarget) -> str:
    """The warehouse for people: the DuckDB file's full path, or the Postgres URL without its password."""
    return str(target.duckdb_path) if target.kind == "duckdb" else display_url(target.url)


def run_folder(settings: Settings, target: WarehouseTarget) -> Path:
    """Where a run keeps its log and its record: beside a DuckDB warehouse; `SETTLD_HOME`/warehouse for
    Postgres."""
    return target.duckdb_path.parent if target.kind == "duckdb" else settings.home / "warehouse"


def record_run(settings: Settings, target: WarehouseTarget, *, as_of: datetime) -> Path:
    """Write the record of a run's dbt build (naive UTC `as_of`): the vars the transform stage passes."""
    from orchestration.as_of import dbt_timestamp

    record = {
        "schemaVersion": RECORD_SCHEMA,
        "warehouse": warehouse_display(target),
        "dbtTarget": target.dbt_target,
        "asOf": as_of.isoformat() + "Z",
        "dbtVars": dbt_vars(
            as_of=dbt_timestamp(as_of),
            grace_days=settings.reconciliation_grace_days,
            api_database_url=settings.api_database_url,
            warehouse_url=settings.warehouse_url,
        ),
    }
    path = run_folder(settings, target) / RECORD_FILE
    atomic_write(path, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return path


def read_record(settings: Settings, target: WarehouseTarget) -> dict[str, Any]:
    """The record of the last `settld run` on this warehouse; exit 1 saying why when there is none."""
    path = run_folder(settings, target) / RECORD_FILE
    if not path.is_file():
        console.print(f"[red]No record of a `settld run` on {warehouse_display(target)}[/] ({path} is "
                      "missing): run `settld run` first (`make demo` does).", soft_wrap=True)  # fmt: skip
        raise typer.Exit(1)
    record = json.loads(path.read_text())
    if record.get("warehouse") != warehouse_display(target):
        console.print(f"[red]{path} records a run on {record.get('warehouse')}, not on "
                      f"{warehouse_display(target)}[/]: run `settld run` on this warehouse first.", soft_wrap=True)  # fmt: skip
        raise typer.Exit(1)
    return record


def _split_vars(args: list[str]) -> tuple[list[str], dict[str, Any]]:
    """The arguments without `--vars X` / `--vars=X`, and the vars given there (YAML or JSON)."""
    rest, given = [], {}
    values = iter(args)
    for arg in values:
        if arg == "--vars" or arg.startswith("--vars="):
            text = arg.partition("=")[2] if "=" in arg else next(values, "")
            parsed = yaml.safe_load(text) or {}
            if not isinstance(parsed, dict):
                raise typer.BadParameter(f"--vars must be a mapping, not {text!r}")
            given.update(parsed)
        else:
            rest.append(arg)
    return rest, given


def dbt_command(ctx: typer.Context) -> None:
    """Run dbt with the target, profile and vars of the last `settld run` (e.g. `settld dbt build`).

    The vars: the as-of instant, the grace days and where the operator API's tables are. Every argument
    passes through to dbt; `--vars` given here override the recorded ones."""
    args = list(ctx.args)
    if not args:
        console.print(
            "Usage: settld dbt DBT_ARGS... (e.g. `settld dbt build`, `settld dbt test --select marts`)"
        )
        raise typer.Exit(2)
    # The project, profile, target and executable of the Dagster dbt resource.
    from orchestration.resources import dbt_resource

    settings = Settings()
    target = warehouse_target(settings.warehouse_url)
    record = read_record(settings, target)
    args, given = _split_vars(args)
    variables = {**record["dbtVars"], **given}
    dbt = dbt_resource(target)
    # The as-of travels in the environment, as in `settld run`'s build: the parse state stays the run's.
    variables, as_of_environment = split_as_of(variables)
    command = [dbt.dbt_executable, *args, "--project-dir", dbt.project_dir, "--profiles-dir", dbt.profiles_dir,
               "--target", dbt.target, "--vars", json.dumps(variables)]  # fmt: skip
    console.print(
        f"dbt as of {record['asOf']} on {record['warehouse']} (recorded by `settld run`)", soft_wrap=True
    )
    environment = {**os.environ, **dbt_environment(target), **as_of_environment}
    from settld.warehouse import WarehouseError, writer_lock

    try:  # dbt writes the warehouse: one writer at a time, as `settld run`
        with writer_lock(
            target, command=" ".join(["settld dbt", *args]), wait_seconds=settings.run_lock_wait_seconds
        ):
            completed = subprocess.run(command, env=environment, check=False)
    except WarehouseError as error:
        console.print(f"[red]Not run:[/] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(1) from error
    raise typer.Exit(completed.returncode)
