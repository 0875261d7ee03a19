"""`settld gate`: the period gate (`settld gate --period P`, settld/cli/close_commands.py, unchanged) and
`settld gate go-live` (devtools/drills/gate.py), one typer group whose callback runs the period gate when no
subcommand is named."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from settld.cli import close_commands

gate_app = typer.Typer(help="Gates: the period gate (--period) and the go-live gate (go-live).")
console = Console()


@gate_app.callback(invoke_without_command=True)
def period_gate(
    ctx: typer.Context,
    period: Annotated[str | None, typer.Option("--period", help="A UTC month, YYYY-MM.")] = None,
    tenant: close_commands.GateTenants = None,
    tolerance_cents: close_commands.GateTolerance = 0,
    data_docs: close_commands.GateDataDocs = True,
    as_json: close_commands.AsJson = False,
) -> None:
    """Evaluate the period gate for each tenant, record the verdicts in the operator API; exit 1 when any is
    red. `settld gate go-live` runs the go-live gate instead."""
    if ctx.invoked_subcommand is not None:
        return
    if period is None:
        raise typer.BadParameter("the period gate needs --period YYYY-MM (or run `settld gate go-live`)",
                                 param_hint="--period")  # fmt: skip
    close_commands.gate(period=period, tenant=tenant, tolerance_cents=tolerance_cents, data_docs=data_docs,
                        as_json=as_json)  # fmt: skip


@gate_app.command("go-live")
def go_live(
    out: Annotated[Path, typer.Option(help="Report folder of the drills, the gate and the packet.")] = Path(
        "artifacts/drills"
    ),
    tracker: Annotated[Path, typer.Option(help="The lighthouse tracker.")] = Path(
        "docs/launch/lighthouse-production-tracker.json"
    ),
    throughput_seconds: Annotated[int, typer.Option(min=5, help="Load time of each throughput drill.")] = 60,
    skip: Annotated[list[str] | None, typer.Option("--skip", help="A check not to run (repeatable).")] = None,
    allow_skip: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-skip", help="Permission to skip that check (repeatable); without it a skip fails."
        ),
    ] = None,
    pytest_arg: Annotated[
        list[str] | None, typer.Option("--pytest-arg", help="Extra pytest argument.")
    ] = None,
) -> None:
    """Critical tests, throughput drill, incident rehearsal, pipeline drill, lighthouse tracker: writes
    GoLiveGateReport.v1 and LaunchCutoverPacket.v1; exit 1 unless every check passed (fail-closed)."""
    from devtools.drills.gate import default_checks, run_gate

    specs = default_checks(
        out, tracker=tracker, throughput_seconds=throughput_seconds, pytest_args=pytest_arg or []
    )
    known = {spec.check_id for spec in specs}
    unknown = sorted((set(skip or []) | set(allow_skip or [])) - known)
    if unknown:
        raise typer.BadParameter(f"unknown check(s) {unknown}; known: {sorted(known)}", param_hint="--skip")
    report, packet = run_gate(specs, out, allow_skip=set(allow_skip or []), skip=set(skip or []))
    for check in report["checks"]:
        mark = "skipped" if check["skipped"] else ("ok" if check["passed"] else "FAILED")
        console.print(f"{check['id']}: {mark} ({check['durationMs'] / 1000:.1f} s) {check['summary']}")
    ok = report["verdict"]["ok"] and packet["verdict"]["ok"]
    console.print(f"go-live gate: {'GO' if ok else 'NO GO'}; reports in {out}")
    raise typer.Exit(0 if ok else 1)
