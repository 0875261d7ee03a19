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
    out: Annotated[Path, typer.Option(help="Directory to write the landing zone into.")],
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
    run_generate(
        console,
        out,
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
) -> None:
    """Materialize every asset in-process (load landing files, dbt build, checks, reports) and summarize."""
    from settld.cli.pipeline import run_pipeline

    ok = run_pipeline(console, landing=landing, warehouse=warehouse, as_of=as_of)
    raise typer.Exit(0 if ok else 1)


@app.command()
def bench(
    scale: Annotated[
        int, typer.Option(min=1, help="Generator scale (~60 payout instructions per tenant-period each).")
    ] = 500,
    tenants: Annotated[int, typer.Option(min=1)] = 4,
    fmt: Annotated[str, typer.Option("--format")] = "parquet",
    out: Annotated[Path, typer.Option(help="Where to write the figures.")] = Path(
        "artifacts/bench/bench.json"
    ),
) -> None:
    """Time sample generation and raw loading at a given scale; write the figures to a JSON file."""
    from settld.cli.bench import run_bench

    run_bench(console, scale=scale, tenants=tenants, fmt=fmt, out=out)


def _register_subcommands() -> None:
    from settld.cli.api_commands import api_app, keys_app

    app.add_typer(api_app, name="api", help="Serve or migrate the operator API.")
    app.add_typer(keys_app, name="keys", help="Create, list and revoke API keys.")


_register_subcommands()

if __name__ == "__main__":
    app()
