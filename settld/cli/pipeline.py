"""`settld run`: the daily run's jobs (orchestration/stages.py), in order, in-process; then a summary."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from orchestration.as_of import AS_OF_TAG, parse_as_of
from settld.settings import REPO_ROOT, Settings, WarehouseTarget, postgres_parts, warehouse_target
from settld.warehouse import connect as connect_warehouse

# Dagster's console logger at WARNING: the progress bars and the summary are the CLI's output; every
# event is still stored in the instance (and shown in the UI when DAGSTER_HOME is set).
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _instance() -> dg.DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set (runs then show in the UI), else an ephemeral one."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return dg.DagsterInstance.ephemeral()
    Path(home).mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.get()


def resolve_as_of(value: str | None, landing_dir: Path) -> datetime:
    """`--as-of`: an ISO-8601 instant, `manifest` (the as-of of a generated landing zone), or now."""
    if value is None:
        return datetime.now(UTC).replace(tzinfo=None)
    if value == "manifest":
        manifest = landing_dir / "manifest.json"
        if not manifest.is_file():
            raise ValueError(f"--as-of manifest: no manifest.json in {landing_dir}")
        value = json.loads(manifest.read_text())["as_of"]
    return parse_as_of(value)


def _report_periods(target: WarehouseTarget) -> tuple[str, str] | None:
    """First and last period with reconciliation rows, clamped to the partition range."""
    from orchestration.partitions import period_partitions

    with connect_warehouse(target, read_only=True) as db:
        (row,) = db.query(
            "select min(period) as first, max(period) as last from marts.fct_reconciliation_summary"
        )
    first, last = row["first"], row["last"]
    keys = period_partitions.get_partition_keys()
    if first is None or not keys:
        return None
    first, last = max(first, keys[0]), min(last, keys[-1])
    return (first, last) if first <= last else None


def run_pipeline(
    console: Console, *, landing: Path | None, warehouse: str | None, as_of: str | None = None
) -> bool:
    overrides = {}
    if landing is not None:
        overrides["landing_dir"] = landing
    if warehouse is not None:
        overrides["warehouse_url"] = warehouse
    settings = Settings(**overrides)
    target = warehouse_target(settings.warehouse_url)
    if not Path(settings.landing_dir).is_dir():
        console.print(
            f"[red]Landing directory not found:[/] {settings.landing_dir} (run `settld generate` first)"
        )
        return False

    try:
        as_of_moment = resolve_as_of(as_of, Path(settings.landing_dir))
    except (ValueError, KeyError) as error:
        console.print(f"[red]Invalid --as-of:[/] {error}")
        return False
    from orchestration import daily_run_definitions, refresh_dbt_manifest
    from orchestration.stages import DAILY_RUN, Stage

    with console.status("Parsing the dbt project ..."):
        refresh_dbt_manifest()
    definitions = daily_run_definitions(settings)
    log_path = _run_log_path(target)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    console.print(
        f"Landing zone: {settings.landing_dir}\nWarehouse:    {_display(target)}\n"
        f"As of:        {as_of_moment.isoformat()}Z\nRun log:      {log_path}"
    )
    tags = {AS_OF_TAG: as_of_moment.isoformat() + "Z"}
    # dbt's own output is written to stdout by dagster-dbt: keep it in the run log, keep the terminal
    # for progress and the summary (the console is bound to the real stdout before the redirect).
    screen = Console(file=sys.stdout)
    ok = True
    with (
        _instance() as instance,
        log_path.open("w") as log,
        Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=screen
        ) as progress,
    ):
        for step in DAILY_RUN:
            description, stage_tags = step.description, dict(tags)
            if step.needs_operator_api and not settings.api_database_url:
                continue  # the operator API's stores need SETTLD_API_DATABASE_URL
            if step.stage is Stage.raw_quality and not settings.quality_raw_checks:
                continue
            if step.over_periods:
                periods = _report_periods(target)
                if periods is None:
                    continue
                stage_tags["dagster/asset_partition_range_start"] = periods[0]
                stage_tags["dagster/asset_partition_range_end"] = periods[1]
                description = f"{description} {periods[0]}..{periods[1]}"
            task = progress.add_task(description, total=1)
            with contextlib.redirect_stdout(log):
                result = definitions.resolve_job_def(step.job_name).execute_in_process(
                    instance=instance, raise_on_error=False, run_config=QUIET_RUN_CONFIG, tags=stage_tags
                )
            progress.update(
                task,
                completed=1,
                description=f"{description} [{'green' if result.success else 'red'}]"
                f"{'done' if result.success else 'FAILED'}[/]",
            )
            if not result.success:
                ok = False
                for event in result.all_events:
                    if event.is_failure:
                        screen.print(f"[red]{event.step_key}[/]: {event.message}")
                break
    if not ok:
        tail = log_path.read_text().splitlines()[-25:]
        console.print("[red]The run failed.[/] Last lines of the run log:\n" + "\n".join(tail))
        return False
    print_summary(console, target)
    return ok


def _display(target: WarehouseTarget) -> str:
    """The warehouse for people: the DuckDB path, or the Postgres URL without its password."""
    if target.kind == "duckdb":
        return str(target.duckdb_path)
    parts = postgres_parts(target.url)
    return f"postgresql://{parts['user']}@{parts['host']}:{parts['port']}/{parts['database']}"


def _run_log_path(target: WarehouseTarget) -> Path:
    """Beside a DuckDB warehouse; under the repository's warehouse/ folder for Postgres."""
    folder = target.duckdb_path.parent if target.kind == "duckdb" else REPO_ROOT / "warehouse"
    return folder / "settld-run.log"


def print_summary(console: Console, target: WarehouseTarget) -> None:
    with connect_warehouse(target, read_only=True) as db:
        loads = db.query(
            """
            select dataset, count(*) as files, sum(rows_in) as rows_in, sum(rows_loaded) as rows_loaded,
                   sum(rows_quarantined) as rows_quarantined
            from raw.load_files group by dataset order by dataset
            """
        )
        table = Table(title="Raw layer (all loaded files)")
        for column in ("dataset", "files", "rows in", "loaded", "quarantined"):
            table.add_column(column, justify="left" if column == "dataset" else "right")
        for row in loads:
            dataset, *numbers = row.values()
            table.add_row(dataset, *(f"{int(n):,}" for n in numbers))
        console.print(table)

        reasons = db.query(
            "select dataset, reason_code, count(*) as row_count from raw.quarantine "
            "group by dataset, reason_code order by dataset, reason_code"
        )
        if reasons:
            table = Table(title="Quarantine (raw.quarantine) by reason")
            for column in ("dataset", "reason", "rows"):
                table.add_column(column, justify="right" if column == "rows" else "left")
            for row in reasons:
                table.add_row(row["dataset"], row["reason_code"], f"{row['row_count']:,}")
            console.print(table)

        marts = db.relations("marts")
        if "fct_reconciliation_mismatches" in marts:
            table = Table(title="Reconciliation mismatches (marts.fct_reconciliation_mismatches)")
            for column in ("severity", "mismatch type", "mismatches", "tenants"):
                table.add_column(column, justify="right" if column in ("mismatches", "tenants") else "left")
            for row in db.query(
                "select severity, mismatch_type, count(*) as mismatches, count(distinct tenant_id) as tenants "
                "from marts.fct_reconciliation_mismatches group by severity, mismatch_type "
                "order by min(severity_rank), mismatch_type"
            ):
                table.add_row(
                    row["severity"], row["mismatch_type"], f"{row['mismatches']:,}", f"{row['tenants']:,}"
                )
            console.print(table)

        table = Table(title="Marts")
        table.add_column("model")
        table.add_column("rows", justify="right")
        for name in marts:
            count = db.scalar(f'select count(*) from marts."{name}"')
            table.add_row(f"marts.{name}", f"{count:,}")
        console.print(table)
