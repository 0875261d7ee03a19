"""`settld gate`, `settld period close|reopen` and `settld evidence verify`: closing a month from the shell.

`settld gate` evaluates each tenant's period (quality/gate.py), writes `artifacts/gates/<tenant>/<period>.json`,
records the verdicts in the operator API's database (the close trusts only a recorded verdict; it is the
same database `settld period close` and the API use: settld.settings decides), prints a table (or
`--json`) with every verdict's full path and exits 1 when any verdict is red. `settld triage` works a
mismatch from the shell, under the same rules as the API's triage route.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from settld.cli.api_database import require_api_database
from settld.cli.tables import print_json, print_table, table
from settld.settings import Settings, warehouse_target

console = Console()
period_app = typer.Typer(
    help="Close or reopen a tenant's period (operator API database).", no_args_is_help=True
)
evidence_app = typer.Typer(help="Period-close evidence bundles.", no_args_is_help=True)

PeriodArgument = Annotated[str, typer.Argument(help="A UTC month, YYYY-MM.")]


# The period gate's options, shared with `settld gate`'s callback (settld/cli/gate_commands.py).
GateTenants = Annotated[list[str] | None, typer.Option("--tenant", help="Only these tenants (repeatable).")]
GateTolerance = Annotated[int, typer.Option(min=0, help="Tie-out drift tolerated without a mismatch.")]
GateDataDocs = Annotated[
    bool, typer.Option(help="Write great-expectations Data Docs under artifacts/quality/data_docs/.")
]
AsJson = Annotated[bool, typer.Option("--json", help="JSON on stdout, for scripts.")]


def gate(
    period: Annotated[str, typer.Option("--period", help="A UTC month, YYYY-MM.")],
    tenant: GateTenants = None,
    tolerance_cents: GateTolerance = 0,
    data_docs: GateDataDocs = True,
    as_json: AsJson = False,
) -> None:
    """Evaluate the period gate for each tenant, record the verdicts in the operator API; exit 1 when any is red."""
    from api.periods.verdicts import record_verdicts, triage_reader
    from quality.gate import evaluate, gate_tenants, write_verdict
    from settld.core import parse_period
    from settld.warehouse import WarehouseError, connect

    try:
        parse_period(period)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--period") from error
    settings = Settings()
    api_url = require_api_database(console, settings)  # the close trusts only a verdict recorded there
    triage = triage_reader(api_url)
    try:
        with connect(warehouse_target(settings.warehouse_url), read_only=True) as db:
            tenants = sorted(set(tenant)) if tenant else gate_tenants(db)
            verdicts = [
                evaluate(db, tenant_id=t, period=period, artifacts_dir=settings.artifacts_dir, triage=triage,
                         tolerance_cents=tolerance_cents, data_docs=data_docs,
                         max_quarantine_rate=settings.max_quarantine_rate)
                for t in tenants
            ]  # fmt: skip
    except WarehouseError as error:  # fail closed, with the reason
        console.print(f"[red]{error.code}[/]: the gate cannot run: {error}", soft_wrap=True)
        raise typer.Exit(2) from error
    if not verdicts:
        console.print(f"[red]No tenants to gate for {period}[/] (has `settld run` built the marts?)")
        raise typer.Exit(1)
    paths = [write_verdict(settings.artifacts_dir, verdict) for verdict in verdicts]
    record_verdicts(api_url, verdicts)
    docs = settings.artifacts_dir / "quality" / "data_docs"
    summary = [
        {"tenant_id": v["tenantId"], "period": period, "ok": v["verdict"]["ok"], "checks": len(v["checks"]),
         "failing_check_ids": v["verdict"]["failingCheckIds"], "warning_check_ids": v["verdict"]["warningCheckIds"],
         "verdict_file": str(path), "data_docs": str(docs / v["tenantId"] / period / "index.html") if data_docs else None}
        for v, path in zip(verdicts, paths, strict=True)
    ]  # fmt: skip
    if as_json:
        print_json(summary)
    else:
        _print_gate(period, summary)
    if any(not row["ok"] for row in summary):
        raise typer.Exit(1)


def _print_gate(period: str, summary: list[dict[str, Any]]) -> None:
    shown = table(f"Period gate {period}", "tenant", "verdict", "checks", "failing (blocking)", "warnings")
    for row in summary:
        shown.add_row(row["tenant_id"], "[green]ok[/]" if row["ok"] else "[red]RED[/]", str(row["checks"]),
                      "\n".join(row["failing_check_ids"]) or "-", "\n".join(row["warning_check_ids"]) or "-")  # fmt: skip
    print_table(console, shown)
    console.print("Verdicts (PeriodGateVerdict.v1; each check's details say why):")
    for row in summary:
        console.print(row["verdict_file"], soft_wrap=True, markup=False, highlight=False)
    if summary[0]["data_docs"]:
        console.print("Data Docs (great-expectations):")
        for row in summary:
            console.print(row["data_docs"], soft_wrap=True, markup=False, highlight=False)


def triage(
    triage_keys: Annotated[list[str], typer.Argument(help="Triage keys (`settld mismatches` lists them).")],
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant whose mismatches these are.")],
    status: Annotated[
        str | None, typer.Option(help="acknowledged, in_progress, resolved or dismissed.")
    ] = None,
    resolution: Annotated[
        str | None, typer.Option(help="Why it is resolved or dismissed (required for those).")
    ] = None,
    owner: Annotated[str | None, typer.Option(help="Who works it.")] = None,
    notes: Annotated[str | None, typer.Option(help="A note kept in the triage log.")] = None,
) -> None:
    """Triage published mismatches from the shell, in one transaction, by the API's triage rules.

    The rules of POST /ops/finance/reconciliation/triage: the state machine, a resolution to resolve or
    dismiss, the triage log and the audit log; a refusal changes nothing."""
    from pydantic import ValidationError

    from api.core.errors import Problem
    from api.core.migrate import database_at_head
    from api.reconciliation.schemas import TriageUpsert
    from api.reconciliation.service import upsert_triage
    from api.tenants.dependencies import Principal

    api_url = require_api_database(console, Settings())
    given = {"status": status, "resolution": resolution, "owner": owner, "notes": notes}
    fields = {name: value for name, value in given.items() if value is not None}
    context = _close_context(tenant)
    # The CLI acts with no API key: its changes carry no key id, like the CLI's closes.
    principal = Principal(tenant_id=tenant, key_id=None, scopes=frozenset(), request_id=context.request_id)  # type: ignore[arg-type]
    done = []
    with database_at_head(api_url) as database, database.transaction() as session:
        for key in triage_keys:
            try:
                request = TriageUpsert(triage_key=key, **fields)
                outcome = upsert_triage(session, principal=principal, request=request, expected_revision=None)
            except ValidationError as error:
                raise typer.BadParameter(f"{key}: {error.errors()[0]['msg']}") from error
            except Problem as error:
                console.print(
                    f"[red]{error.code}[/] {key}: {error.detail} (nothing was changed)", soft_wrap=True
                )
                raise typer.Exit(1) from error
            done.append((key, outcome.triage.status, outcome.triage.revision, outcome.changed))
    for key, state, revision, changed in done:
        console.print(
            f"{key}: {state} (revision {revision}{'' if changed else ', unchanged'})", soft_wrap=True
        )


def _close_context(tenant: str):
    from api.audit.service import AuditContext

    return AuditContext(tenant, None, f"cli-{uuid.uuid4().hex[:16]}")


def _print_close(record: Any, changed: bool, artifacts_dir: Path) -> None:
    """The record, then the evidence bundle's full path alone on the last line (`| tail -n 1` gives it to
    `settld evidence verify`)."""
    console.print(
        f"{record.tenant_id} {record.period}: {record.status} (revision {record.revision}"
        f"{'' if changed else ', unchanged'}) as of {record.closed_at.isoformat()}; evidence bundle sha256 "
        f"{record.bundle_sha256}:",
        soft_wrap=True,
    )
    if record.bundle_file:
        typer.echo(str((artifacts_dir / record.bundle_file).resolve()))


def _change_period(write: Callable[..., Any]) -> None:
    """Run a close or reopen in one API-database transaction (committed, then its files put in place);
    print the record, or the refusal and exit 1."""
    from api.core.database import utc_now
    from api.core.errors import Problem
    from api.core.migrate import database_at_head
    from api.core.settings import ApiSettings

    settings = ApiSettings()
    require_api_database(console, Settings())
    with database_at_head(settings.database_url) as database, database.transaction() as session:
        try:
            outcome = write(session, settings=settings, now=utc_now())
        except Problem as error:
            console.print(f"[red]{error.code}[/]: {error.detail} {json.dumps(error.extra, default=str)}",
                          soft_wrap=True)  # fmt: skip
            raise typer.Exit(1) from error
    _print_close(outcome.record, outcome.changed, settings.artifacts_dir)


@period_app.command("close")
def period_close(
    period: PeriodArgument,
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant whose period closes.")],
    closed_at: Annotated[
        str | None,
        typer.Option(
            "--closed-at", help="The close instant, ISO-8601 UTC (default: the gate verdict's asOf)."
        ),
    ] = None,
) -> None:
    """Close a tenant's period when its recorded gate verdict is green; write the evidence bundle.

    The close instant (the finalised invoices' finalizedAt) is the as-of of the build the verdict judged,
    or `--closed-at`: never the clock, so the same inputs close to the same bundle."""
    from api.periods.service import close_period
    from orchestration.as_of import parse_as_of

    try:
        instant = parse_as_of(closed_at) if closed_at else None
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--closed-at") from error
    _change_period(
        lambda session, settings, now: close_period(
            session,
            context=_close_context(tenant),
            period=period,
            artifacts_dir=settings.artifacts_dir,
            now=now,
            closed_at=instant,
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
        console.print(f"[green]OK[/] {bundle}: {result.files} files match the manifest", soft_wrap=True)
        return
    console.print(f"[red]FAILED[/] {bundle}:", soft_wrap=True)
    for problem in result.problems:
        console.print(f"  - {problem}", soft_wrap=True)
    raise typer.Exit(1)
