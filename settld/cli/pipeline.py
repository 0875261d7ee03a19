"""`settld run`: the daily run's jobs (orchestration/stages.py), in order, in-process; then a summary.

Every stage runs, or the run stops and says what it needs: the operator API's database is checked before
anything starts (`SETTLD_API_DATABASE_URL`, default the SQLite file under warehouse/; `settld api migrate`
when it is not at head), and a stage left out says why in the stage list. After the load stage the
landing zone is judged (settld/cli/landing_verdict.py): a sick one stops the run before dbt, or with
`--keep-going` the run goes on and exits non-zero. The run log holds every Dagster event and each error.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ingestion.contracts import DATASETS
from orchestration.as_of import AS_OF_TAG, FULL_REFRESH_TAG, parse_as_of
from settld.cli.api_database import ApiDatabaseUnusable, usable_api_database
from settld.cli.landing_verdict import (
    LandingVerdict,
    empty_landing_zone,
    invalid_overrides,
    judge_landing,
    landing_report,
    print_landing_report,
)
from settld.cli.run_history import instance as run_history_instance
from settld.cli.run_record import RECORD_FILE, record_run, run_folder, warehouse_display
from settld.cli.summary import print_summary
from settld.settings import Settings, WarehouseTarget, display_url, warehouse_target
from settld.warehouse import connect as connect_warehouse

# Dagster's console logger at WARNING: the progress bars and the summary are the CLI's output; every
# event is still stored in the instance (and shown in the UI when DAGSTER_HOME is set).
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
# `settld run` sends the console logger (and anything else on stdout or stderr while a job runs) to its run
# log, at INFO: the log holds every event and every error's stack trace; the terminal gets the progress.
RUN_LOG_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
# Each run's tag naming its warehouse's kind (duckdb, postgres): runs of two demos tell apart in the UI.
WAREHOUSE_TAG = "settld/warehouse"


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


def run_pipeline(console: Console, **options) -> bool:
    """The run, holding the warehouse's one writer lock (settld/warehouse.py: `writer_lock`): a second
    `settld run` on the same warehouse waits up to SETTLD_RUN_LOCK_WAIT_SECONDS, then refuses naming the
    holder. `options` are `_run_pipeline`'s."""
    from settld.warehouse import WarehouseError, writer_lock

    settings = Settings(**({"warehouse_url": options["warehouse"]} if options.get("warehouse") else {}))
    target = warehouse_target(settings.warehouse_url)
    command = " ".join(["settld", *sys.argv[1:]])
    try:
        with writer_lock(target, command=command, wait_seconds=settings.run_lock_wait_seconds):
            return _run_pipeline(console, **options)
    except WarehouseError as error:  # WAREHOUSE_LOCKED names the holder; WAREHOUSE_UNREACHABLE the server
        console.print(f"[red]Not run:[/] {escape(str(error))}", soft_wrap=True)
        return False


def _run_pipeline(
    console: Console,
    *,
    landing: Path | None,
    warehouse: str | None,
    as_of: str | None = None,
    keep_going: bool = False,
    full_refresh: bool = False,
) -> bool:
    overrides: dict = {"keep_going": True} if keep_going else {}
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
    if problem := invalid_overrides(settings):
        console.print(f"[red]Not run:[/] {escape(problem)}", soft_wrap=True)
        return False
    if empty_landing_zone(Path(settings.landing_dir)):
        console.print(f"[yellow]The landing zone {settings.landing_dir} is empty:[/] no file of any dataset "
                      f"({', '.join(d.folder + '/' for d in DATASETS.values())}).", soft_wrap=True)  # fmt: skip

    try:
        as_of_moment = resolve_as_of(as_of, Path(settings.landing_dir))
    except (ValueError, KeyError) as error:
        console.print(f"[red]Invalid --as-of:[/] {error}")
        return False
    from orchestration import daily_run_definitions, refresh_dbt_manifest
    from orchestration.stages import DAILY_RUN, Stage

    if needing := [step.job_name for step in DAILY_RUN if step.needs_operator_api]:
        try:
            usable_api_database(settings)
        except ApiDatabaseUnusable as error:
            console.print(f"[red]Not run:[/] the stages {', '.join(needing)} write into the operator API's "
                          f"database, which is not usable: {error}", soft_wrap=True)  # fmt: skip
            return False
    with console.status("Parsing the dbt project ..."):
        refresh_dbt_manifest(settings)
    definitions = daily_run_definitions(settings)
    folder = run_folder(settings, target)
    log_path = folder / "settld-run.log"
    folder.mkdir(parents=True, exist_ok=True)
    stripe = "STRIPE_API_KEY set: pulled" if os.environ.get("STRIPE_API_KEY") else (
        "STRIPE_API_KEY not set: landed event files only, no pull")  # fmt: skip
    console.print(
        f"Landing zone: {settings.landing_dir}\nWarehouse:    {warehouse_display(target)}\n"
        f"Operator API: {display_url(settings.api_database_url)}\nStripe:       {stripe}\n"
        f"As of:        {as_of_moment.isoformat()}Z\nRun log:      {log_path}\n"
        f"dbt vars:     {folder / RECORD_FILE} (`settld dbt` builds with them)",
        soft_wrap=True,
    )
    tags = {AS_OF_TAG: as_of_moment.isoformat() + "Z", WAREHOUSE_TAG: target.kind}
    if full_refresh:
        tags[FULL_REFRESH_TAG] = "true"
    # dbt's own output is written to stdout by dagster-dbt: keep it in the run log, keep the terminal
    # for progress and the summary (the console is bound to the real stdout before the redirect).
    # A pipe is not a terminal: wide enough there that no stage's line is cut.
    screen = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160)
    ok, verdict = True, LandingVerdict()
    with (
        run_history_instance() as instance,
        log_path.open("w") as log,
        Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=screen
        ) as progress,
    ):
        for step in DAILY_RUN:
            description, stage_tags = f"{step.job_name}: {step.description}", dict(tags)
            left_out = ""
            if step.stage is Stage.raw_quality and not settings.quality_raw_checks:
                left_out = "left out: SETTLD_QUALITY_RAW_CHECKS is false"
            elif step.over_periods:
                periods = _report_periods(target)
                if periods is None:
                    left_out = "nothing to do: no period has reconciliation rows"
                else:
                    stage_tags["dagster/asset_partition_range_start"] = periods[0]
                    stage_tags["dagster/asset_partition_range_end"] = periods[1]
                    description = f"{description} {periods[0]}..{periods[1]}"
            if left_out:
                progress.add_task(f"{description} [yellow]{left_out}[/]", total=1, completed=1)
                continue
            if step.stage is Stage.transform:
                record_run(settings, target, as_of=as_of_moment)
            task = progress.add_task(description, total=1)
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                result = definitions.resolve_job_def(step.job_name).execute_in_process(
                    instance=instance, raise_on_error=False, run_config=RUN_LOG_CONFIG, tags=stage_tags
                )
            progress.update(
                task,
                completed=1,
                description=f"{description} [{'green' if result.success else 'red'}]"
                f"{'done' if result.success else 'FAILED'}[/]",
            )
            if step.stage is Stage.load:
                try:
                    verdict = judge_landing(settings, target)
                except Exception as error:  # noqa: BLE001 - named, and the run stops on it
                    log.write(f"\nThe landing zone could not be judged: {error}\n")
                    screen.print(f"[red]The landing zone could not be judged:[/] {escape(str(error))}")
                    ok = False
                    break
                if verdict.problems:  # the load job's landing_healthy checks failed on the same verdict
                    report = landing_report(verdict, keep_going=settings.keep_going)
                    log.write("\n".join(["", *report, ""]))
                    log.flush()
                    print_landing_report(screen, report, log_path)
                    if not settings.keep_going:
                        return False
            if not result.success:
                ok = False
                for event in result.all_events:
                    if event.is_failure:
                        screen.print(
                            f"[red]{event.step_key}[/]: {escape(event.message or '')}", soft_wrap=True
                        )
                break
    if not ok:
        tail = log_path.read_text().splitlines()[-25:]
        console.print(f"[red]The run failed.[/] Full run log: {log_path}; its last lines:", soft_wrap=True)
        console.print("\n".join(tail), soft_wrap=True, markup=False, highlight=False)
        return False
    print_summary(console, settings, target, periods=_report_periods(target), landing=verdict)
    if verdict.problems:  # --keep-going: built anyway, and said so
        console.print("[red]Built with --keep-going on a sick landing zone; left out of the marts:[/]\n  "
                      + "\n  ".join(verdict.left_out), soft_wrap=True)  # fmt: skip
        return False
    return ok
