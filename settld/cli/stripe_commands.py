"""`settld stripe replay`: re-fetch a window of Stripe events and re-apply its dead letters (re-verified).

Stripe access: `STRIPE_API_KEY` (a restricted key with read access to events), and `SETTLD_STRIPE_API_BASE`
to point the official SDK at another host (the local emulator in tests). Without a key the replay refuses
to start (exit 2) unless `--dead-letters-only` says that only the stored dead letters are to be re-applied
(the report then records the pull as skipped). The report is printed and written to
`<artifacts>/stripe/replay-<from>-<to>.json`. Runbook: docs/runbooks/billing-webhook-replay.md.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

console = Console()
stripe_app = typer.Typer(help="Stripe billing data: replay a window of events.", no_args_is_help=True)


def _instant(value: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise typer.BadParameter(f"not an ISO-8601 instant: {value!r}", param_hint=option) from error
    if moment.tzinfo is None:
        raise typer.BadParameter(
            "give the offset (e.g. 2026-11-01T00:00:00Z): times are UTC", param_hint=option
        )
    return moment.astimezone(UTC)


def stripe_client():
    """The official SDK's client, or None without STRIPE_API_KEY. Network retries are the SDK's own."""
    import stripe

    api_key = os.environ.get("STRIPE_API_KEY")
    if not api_key:
        return None
    base = os.environ.get("SETTLD_STRIPE_API_BASE")
    return stripe.StripeClient(api_key, base_addresses={"api": base} if base else None, max_network_retries=3)


@stripe_app.command("replay")
def replay(
    start: Annotated[str, typer.Option("--from", help="Window start (inclusive), ISO-8601 with offset.")],
    end: Annotated[str, typer.Option("--to", help="Window end (exclusive), ISO-8601 with offset.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would happen; write nothing.")
    ] = False,
    dead_letters_only: Annotated[
        bool,
        typer.Option(
            "--dead-letters-only", help="Only re-apply stored dead letters: no pull, no key needed."
        ),
    ] = False,
) -> None:
    """Insert the window's events Stripe lists but the warehouse lacks; re-apply its verified dead letters."""
    from api.billing.replay import ReplayReport, pull_window, replay_dead_letters
    from api.core.database import utc_now
    from api.core.migrate import database_at_head
    from api.core.settings import ApiSettings
    from settld.settings import Settings

    window_start, window_end = _instant(start, "--from"), _instant(end, "--to")
    if window_end <= window_start:
        raise typer.BadParameter("--to must be after --from", param_hint="--to")
    client = None if dead_letters_only else stripe_client()
    if client is None and not dead_letters_only:
        console.print(
            "[red]STRIPE_API_KEY is not set[/]: the replay re-fetches the window's events from Stripe and needs "
            "a key with read access to events. Set STRIPE_API_KEY, or pass --dead-letters-only to re-apply only "
            "the stored dead letters.",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    settings = ApiSettings()
    report = ReplayReport(
        window={"from": window_start.isoformat(), "to": window_end.isoformat()}, dry_run=dry_run
    )
    with database_at_head(settings.database_url) as database, database.transaction() as session:
        now = utc_now()
        if client is None:  # --dead-letters-only
            report.pulled["skipped"][
                "dead_letters_only" if os.environ.get("STRIPE_API_KEY") else "no_stripe_api_key"
            ] += 1
        else:
            pull_window(session, client, start=window_start, end=window_end, now=now, report=report)
        replay_dead_letters(session, secret=settings.stripe_webhook_secret, start=window_start, end=window_end,
                            now=now, report=report)  # fmt: skip
        if dry_run:  # nothing was written; roll back anyway, so a dry run can never keep a row
            session.rollback()
    document = report.as_dict()
    out = (
        Settings().artifacts_dir
        / "stripe"
        / (
            f"replay-{window_start:%Y%m%dT%H%M%SZ}-{window_end:%Y%m%dT%H%M%SZ}{'-dry-run' if dry_run else ''}.json"
        )
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    console.print_json(data=document)
    console.print(f"Report: {out}")


smoke_app = typer.Typer(help="End-to-end smoke checks against local emulators.", no_args_is_help=True)


@smoke_app.command("billing")
def smoke_billing(
    out: Annotated[str, typer.Option(help="Where to write the status document.")] = "",
) -> None:
    """Stripe emulator -> signed webhook -> API -> dbt: the tenant's new plan must reach the warehouse."""
    from pathlib import Path

    from devtools.smoke import run_billing_smoke
    from settld.settings import Settings

    target = Path(out) if out else Settings().artifacts_dir / "billing-smoke-status.json"
    document = run_billing_smoke(target)
    for step in document["steps"]:
        mark = "[green]ok[/]" if step["ok"] else "[red]FAILED[/]"
        console.print(
            f"{mark} {step['name']} ({step['seconds']} s){'  ' + step['error'] if 'error' in step else ''}"
        )
    console.print(f"Status: {target}")
    if not document["ok"]:
        raise typer.Exit(1)
