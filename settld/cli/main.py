"""`settld`: the platform's command line (typer + rich)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from settld.core import parse_period

app = typer.Typer(help="Settld finance data platform.", no_args_is_help=True, pretty_exceptions_enable=False)
console = Console()


def _periods(value: str) -> list[str]:
    try:
        return [parse_period(p.strip()) for p in value.split(",") if p.strip()]
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error


@app.command()
def generate(
    out: Annotated[
        Path | None,
        typer.Option(help="Directory to write the landing zone into (default: SETTLD_LANDING_DIR)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same bytes.")] = 7,
    tenants: Annotated[int, typer.Option(min=1, help="Number of tenants.")] = 4,
    periods: Annotated[
        str, typer.Option(help="Comma-separated periods, YYYY-MM.")
    ] = "2026-08,2026-09,2026-10",
    scale: Annotated[
        int,
        typer.Option(min=1, help="Multiplies the volume (~60 payout instructions per tenant-period each)."),
    ] = 1,
    fmt: Annotated[
        str, typer.Option("--format", help="mixed (JSONL/CSV/Parquet), jsonl, csv or parquet.")
    ] = "mixed",
    malformed: Annotated[
        bool, typer.Option(help="Inject a few contract-breaking rows (they land in quarantine).")
    ] = True,
) -> None:
    """Write a realistic, deterministic sample landing zone with injected reconciliation problems."""
    from settld.cli.generate import run_generate

    if fmt not in ("mixed", "jsonl", "csv", "parquet"):
        raise typer.BadParameter("format must be one of mixed, jsonl, csv, parquet", param_hint="--format")
    from settld.settings import Settings

    run_generate(
        console,
        out or Settings().landing_dir,
        seed=seed,
        tenants=tenants,
        periods=_periods(periods),
        scale=scale,
        fmt=fmt,
        malformed=malformed,
    )


@app.command()
def run(
    landing: Annotated[
        Path | None, typer.Option(help="Landing directory (default: SETTLD_LANDING_DIR).")
    ] = None,
    warehouse: Annotated[
        str | None, typer.Option(help="Warehouse path or URL (default: SETTLD_WAREHOUSE_URL).")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="ISO-8601 instant the run is judged as of (default: now); `manifest`: the landing zone's."
        ),
    ] = None,
    keep_going: Annotated[
        bool,
        typer.Option(
            "--keep-going",
            help="Build the marts even when the landing zone is sick (a rejected file, a dataset quarantined "
            "above its threshold or below its minimum rows); the run still exits 1 (SETTLD_KEEP_GOING).",
        ),
    ] = False,
    full_refresh: Annotated[
        bool,
        typer.Option(
            "--full-refresh",
            help="Rebuild the incremental dbt models whole instead of only the keys changed since their last "
            "build: the same tables. Needed after a change to those models' SQL (docs/DECISIONLOG.md, "
            "'Incremental runs').",
        ),
    ] = False,
) -> None:
    """Materialize every asset in-process (load landing files, dbt build, checks, reports) and summarize.

    A sick landing zone stops the run after loading, before dbt, with exit 1: one line per rejected file or
    sick dataset, the top quarantine reasons with sample rows, and the run log's path."""
    from settld.cli.pipeline import run_pipeline

    ok = run_pipeline(
        console,
        landing=landing,
        warehouse=warehouse,
        as_of=as_of,
        keep_going=keep_going,
        full_refresh=full_refresh,
    )
    raise typer.Exit(0 if ok else 1)


@app.command()
def bench(
    instructions: Annotated[
        int, typer.Option(min=540, help="Payout instructions to generate (10000000 for the big run).")
    ] = 1_000_000,
    out: Annotated[Path, typer.Option(help="Where to write the figures.")] = Path(
        "artifacts/bench/reconciliation.json"
    ),
    keep: Annotated[bool, typer.Option(help="Keep the generated landing zone and warehouse.")] = False,
) -> None:
    """Time `settld run` against a hand-written DuckDB floor on N instructions; check both agree."""
    from settld.cli.bench import run_bench

    figures = run_bench(console, instructions=instructions, out=out, keep=keep)
    raise typer.Exit(0 if figures["same_mismatches"] else 1)


@app.command("bench-sweep")
def bench_sweep(
    sizes: Annotated[
        str, typer.Option(help="Payout instructions per bench, comma-separated (10000000 for the big run).")
    ] = "10000,100000,1000000",
    out_dir: Annotated[
        Path, typer.Option(help="Where to write sweep.json, sweep.svg and each size's figures.")
    ] = Path("artifacts/bench"),
) -> None:
    """`settld bench` at several sizes: one table, `sweep.json` and a plot of seconds against rows."""
    from settld.cli.bench_sweep import run_sweep

    try:
        counts = [int(size) for size in sizes.split(",") if size.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"not a comma-separated list of counts: {sizes!r}", param_hint="--sizes"
        ) from None
    if not counts or min(counts) < 540:
        raise typer.BadParameter("each size must be at least 540 instructions", param_hint="--sizes")
    out_dir.mkdir(parents=True, exist_ok=True)
    sweep = run_sweep(console, sizes=counts, out_dir=out_dir)
    raise typer.Exit(0 if all(row["same_mismatches"] for row in sweep["sizes"]) else 1)


@app.command("bench-api")
def bench_api(
    users: Annotated[int, typer.Option(min=1, help="Concurrent locust users.")] = 8,
    seconds: Annotated[int, typer.Option(min=5, help="How long to load the API.")] = 20,
    out: Annotated[Path, typer.Option(help="Where to write the figures.")] = Path("artifacts/bench/api.json"),
) -> None:
    """Triage writes per second and p50/p99 latency: locust (headless) against uvicorn on loopback."""
    from devtools.bench.api_load import run_api_bench

    figures = run_api_bench(out=out, users=users, seconds=seconds)
    for name, row in figures["results"].items():
        console.print(f"{name}: {row['requests_per_second']} req/s, p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, "
                      f"{row['failures']} failures")  # fmt: skip
    console.print(f"Figures written to {out}")


def _register_subcommands() -> None:
    from settld.cli.api_commands import api_app, keys_app
    from settld.cli.close_commands import evidence_app, period_app, triage
    from settld.cli.gate_commands import gate_app
    from settld.cli.lighthouse_commands import lighthouse_app
    from settld.cli.questions import invoices, mismatches
    from settld.cli.run_record import dbt_command

    app.add_typer(api_app, name="api", help="Serve or migrate the operator API.")
    app.add_typer(keys_app, name="keys", help="Create, list and revoke API keys.")
    app.command("mismatches")(mismatches)
    app.command("invoices")(invoices)
    app.command("triage")(triage)
    app.add_typer(gate_app, name="gate")  # `settld gate --period P` and `settld gate go-live`
    app.add_typer(lighthouse_app, name="lighthouse", help="The lighthouse production tracker: check, update.")
    app.command(
        "dbt",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )(dbt_command)
    app.add_typer(period_app, name="period", help="Close or reopen a tenant's period.")
    app.add_typer(evidence_app, name="evidence", help="Verify period-close evidence bundles.")
    from settld.cli.stripe_commands import smoke_app, stripe_app

    app.add_typer(stripe_app, name="stripe", help="Stripe billing data: replay a window of events.")
    app.add_typer(smoke_app, name="smoke", help="End-to-end smoke checks (billing).")
    from settld.cli.drill_commands import drill_app
    from settld.cli.warehouse import spark_cluster_drill, warehouse_app

    drill_app.command("spark-cluster")(spark_cluster_drill)
    app.add_typer(warehouse_app, name="warehouse", help="Look at the warehouse: digests of its marts.")
    app.add_typer(
        drill_app,
        name="drill",
        help="Drills on real infrastructure: throughput on Postgres, the pipeline at 10x, a local Spark cluster.",
    )


_register_subcommands()

if __name__ == "__main__":
    app()
