"""`settld drill throughput [--incident]` and `settld drill pipeline`: the go-live drills (issue 25).

Both write into one report folder (default `artifacts/drills/`) and exit 1 when their verdict is false.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

drill_app = typer.Typer(
    help="Go-live drills: API throughput on Postgres, the pipeline at 10x.", no_args_is_help=True
)
console = Console()
Out = Annotated[Path, typer.Option(help="Report folder (shared by the drills and the go-live gate).")]
DEFAULT_OUT = Path("artifacts/drills")


@drill_app.command()
def throughput(
    out: Out = DEFAULT_OUT,
    incident: Annotated[
        bool, typer.Option("--incident", help="Stop Postgres during the load, then start it.")
    ] = False,
    seconds: Annotated[int, typer.Option(min=5, max=3600, help="How long the load runs.")] = 60,
    users: Annotated[int, typer.Option(min=1, max=500, help="Concurrent locust users.")] = 24,
    max_requests: Annotated[int, typer.Option(min=100, help="Stop after this many requests.")] = 200_000,
    workers: Annotated[int, typer.Option(min=1, max=16, help="uvicorn workers of the API.")] = 2,
    pool_size: Annotated[int, typer.Option(min=1, max=100, help="Connection pool per worker.")] = 5,
    p99_ms: Annotated[float, typer.Option(help="p99 latency threshold, ms.")] = 50.0,
    min_rps: Annotated[float, typer.Option(help="Throughput threshold, requests/s.")] = 1000.0,
    max_failure_rate: Annotated[float, typer.Option(help="Unexpected answers outside the incident.")] = 0.001,
    max_rejected_ingest_rate: Annotated[float, typer.Option(help="Rejected webhooks / webhooks.")] = 0.05,
    outage_seconds: Annotated[
        float, typer.Option(help="How long Postgres stays stopped (--incident).")
    ] = 10.0,
    incident_after: Annotated[float, typer.Option(help="Seconds of load before the outage.")] = 15.0,
    settlements: Annotated[
        int, typer.Option(min=1, help="Resolved settlements per tenant (one dispute each).")
    ] = 600,
    profile: Annotated[
        bool, typer.Option("--profile", help="py-spy on the API's workers during the load.")
    ] = False,
) -> None:
    """Headless locust on loopback against `settld api serve --workers N` on Postgres; books; report; plot."""
    from devtools.drills.throughput import DrillConfig, run_throughput_drill

    config = DrillConfig(users=users, seconds=seconds, max_requests=max_requests, workers=workers,
                         pool_size=pool_size, p99_ms=p99_ms, min_requests_per_second=min_rps,
                         max_failure_rate=max_failure_rate, max_rejected_ingest_rate=max_rejected_ingest_rate,
                         incident=incident, outage_seconds=outage_seconds, incident_after_seconds=incident_after,
                         profile=profile, settlements_per_tenant=settlements)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="settld-drill-") as work:
        report = run_throughput_drill(config, out, Path(work))
    metrics = report["metrics"]
    console.print(f"{metrics['requests']} requests in {metrics['run_seconds']} s: {metrics['requests_per_second']} req/s, "
                  f"p50 {metrics['p50_ms']} ms, p95 {metrics['p95_ms']} ms, p99 {metrics['p99_ms']} ms")  # fmt: skip
    ok = report["verdict"]["ok"]
    if incident:
        import json

        rehearsal = json.loads((out / "throughput-incident-rehearsal.json").read_text())
        console.print(f"incident rehearsal: {'ok' if rehearsal['verdict']['ok'] else 'FAILED'} "
                      f"{rehearsal['verdict']['failedChecks']}")  # fmt: skip
        ok = ok and rehearsal["verdict"]["ok"]
    console.print(
        f"throughput drill: {'ok' if report['verdict']['ok'] else 'FAILED'} {report['verdict']['failedChecks']}"
    )
    console.print(f"Reports in {out}")
    raise typer.Exit(0 if ok else 1)


@drill_app.command()
def pipeline(
    out: Out = DEFAULT_OUT,
    scale: Annotated[int, typer.Option(min=1, help="Multiplies the sample volume.")] = 10,
    keep: Annotated[bool, typer.Option(help="Keep the landing zone and warehouse.")] = False,
) -> None:
    """`settld run` on the sample landing zone at SCALE times its volume, then again with one more day of
    landing files (the incremental day); times and figures into PipelineDrillReport.v1."""
    from devtools.drills.pipeline import run_pipeline_drill

    report = run_pipeline_drill(out=out, scale=scale, keep=keep)
    for run in report["runs"]:
        console.print(f"{run['name']}: exit {run['exit_code']} in {run['seconds']} s")
    console.print(
        f"pipeline drill: {'ok' if report['verdict']['ok'] else 'FAILED'} {report['verdict']['failedChecks']}"
    )
    raise typer.Exit(0 if report["verdict"]["ok"] else 1)
