"""`settld gate`, `settld period close|reopen` and `settld evidence verify`: closing a month from the shell.

`settld gate` evaluates each tenant's period (quality/gate.py), writes `artifacts/gates/<tenant>/<period>.json`,
records the verdicts in the operator API's database when one is configured (the close endpoint trusts
only a recorded verdict), prints a table and exits 1 when any verdict is red.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from settld.settings import Settings, warehouse_target

console = Console()
period_app = typer.Typer(
    help="Close or reopen a tenant's period (operator API database).", no_args_is_help=True
)
evidence_app = typer.Typer(help="Period-close evidence bundles.", no_args_is_help=True)

PeriodArgument = Annotated[str, typer.Argument(help="A UTC month, YYYY-MM.")]


def gate(
    period: Annotated[str, typer.Option("--period", help="A UTC month, YYYY-MM.")],
    tenant: Annotated[
        list[str] | None, typer.Option("--tenant", help="Only these tenants (repeatable).")
    ] = None,
    tolerance_cents: Annotated[
        int, typer.Option(min=0, help="Tie-out drift tolerated without a mismatch.")
    ] = 0,
    data_docs: Annotated[
        bool, typer.Option(help="Write great-expectations Data Docs under artifacts/quality/data_docs/.")
    ] = True,
) -> None:
    """Evaluate the period gate for each tenant (warehouse from SETTLD_WAREHOUSE_URL); exit 1 when any is red."""
    from api.core.settings import normalise_database_url
    from api.periods.verdicts import record_verdicts, triage_reader
    from quality.gate import evaluate, gate_tenants, write_verdict
    from settld.core import parse_period
    from settld.warehouse import WarehouseError, connect

    try:
        parse_period(period)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--period") from error
    settings = Settings()
    api_url = normalise_database_url(settings.api_database_url) if settings.api_database_url else None
    triage = triage_reader(api_url) if api_url else None
    try:
        with connect(warehouse_target(settings.warehouse_url), read_only=True) as db:
            tenants = sorted(set(tenant)) if tenant else gate_tenants(db)
            verdicts = [
                evaluate(db, tenant_id=t, period=period, artifacts_dir=settings.artifacts_dir, triage=triage,
                         tolerance_cents=tolerance_cents, data_docs=data_docs)
                for t in tenants
            ]  # fmt: skip
    except WarehouseError as error:  # fail closed, with the reason
        console.print(f"[red]{error.code}[/]: the gate cannot run: {error}")
        raise typer.Exit(2) from error
    if not verdicts:
        console.print(f"[red]No tenants to gate for {period}[/] (has `settld run` built the marts?)")
        raise typer.Exit(1)
    for verdict in verdicts:
        write_verdict(settings.artifacts_dir, verdict)
    if api_url:
        record_verdicts(api_url, verdicts)

    table = Table(title=f"Period gate {period}")
    for column in ("tenant", "verdict", "checks", "failing (blocking)", "warnings"):
        table.add_column(column)
    for verdict in verdicts:
        ok = verdict["verdict"]["ok"]
        table.add_row(
            verdict["tenantId"],
            "[green]ok[/]" if ok else "[red]RED[/]",
            str(len(verdict["checks"])),
            "\n".join(verdict["verdict"]["failingCheckIds"]) or "-",
            "\n".join(verdict["verdict"]["warningCheckIds"]) or "-",
        )
    console.print(table)
    console.print(f"Verdicts: {settings.artifacts_dir / 'gates'}/<tenant>/{period}.json")
    if data_docs:
        console.print(
            f"Data Docs: {settings.artifacts_dir / 'quality' / 'data_docs'}/<tenant>/{period}/index.html"
        )
    if any(not verdict["verdict"]["ok"] for verdict in verdicts):
        raise typer.Exit(1)


def _close_context(tenant: str):
    from api.audit.service import AuditContext

    return AuditContext(tenant, None, f"cli-{uuid.uuid4().hex[:16]}")


def _print_close(record: Any, changed: bool) -> None:
    state = "closed" if record.status == "closed" else record.status
    console.print(
        f"{record.tenant_id} {record.period}: {state} (revision {record.revision}"
        f"{'' if changed else ', unchanged'}); evidence {record.bundle_file} sha256 {record.bundle_sha256}"
    )


def _change_period(write: Callable[..., Any]) -> None:
    """Run a close or reopen in one API-database transaction (committed, then its files put in place);
    print the record, or the refusal and exit 1."""
    from api.core.database import utc_now
    from api.core.errors import Problem
    from api.core.migrate import database_at_head
    from api.core.settings import ApiSettings

    settings = ApiSettings()
    with database_at_head(settings.database_url) as database, database.transaction() as session:
        try:
            outcome = write(session, settings=settings, now=utc_now())
        except Problem as error:
            console.print(f"[red]{error.code}[/]: {error.detail} {json.dumps(error.extra, default=str)}")
            raise typer.Exit(1) from error
    _print_close(outcome.record, outcome.changed)


@period_app.command("close")
def period_close(
    period: PeriodArgument,
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant whose period closes.")],
) -> None:
    """Close a tenant's period when its recorded gate verdict is green; write the evidence bundle."""
    from api.periods.service import close_period

    _change_period(
        lambda session, settings, now: close_period(
            session,
            context=_close_context(tenant),
            period=period,
            artifacts_dir=settings.artifacts_dir,
            now=now,
        )
    )


@period_app.command("reopen")
def period_reopen(
    period: PeriodArgument,
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant whose period reopens.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the closed period must change (audited).")],
) -> None:
    """Reopen a closed period; the reason is kept in the close record and the audit log."""
    from api.periods.service import reopen_period

    if not reason.strip():
        raise typer.BadParameter("a reason is required", param_hint="--reason")
    _change_period(
        lambda session, settings, now: reopen_period(
            session, context=_close_context(tenant), period=period, reason=reason.strip(), now=now
        )
    )


@evidence_app.command("verify")
def evidence_verify(
    bundle: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The .zip")],
) -> None:
    """Check a bundle against its manifest: every file's sha256 and size, nothing missing or extra."""
    from reports.evidence import verify_bundle

    result = verify_bundle(bundle)
    if result.ok:
        console.print(f"[green]OK[/] {bundle}: {result.files} files match the manifest")
        return
    console.print(f"[red]FAILED[/] {bundle}:")
    for problem in result.problems:
        console.print(f"  - {problem}")
    raise typer.Exit(1)
