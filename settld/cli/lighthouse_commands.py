"""`settld lighthouse check|update`: the lighthouse production tracker (quality/lighthouse.py).

`check` validates the tracker and checks every active account's settlement reference against the warehouse,
writes `LighthouseTrackerCheck.v1` into the report folder and exits 1 unless it is ok. `update` edits one
existing account (never adds one) and stamps `updatedAt`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

lighthouse_app = typer.Typer(help="The lighthouse production tracker: check it, update an account.",
                             no_args_is_help=True)  # fmt: skip
console = Console()
DEFAULT_TRACKER = Path("docs/launch/lighthouse-production-tracker.json")
Tracker = Annotated[Path, typer.Option(help="The LighthouseProductionTracker.v1 file.")]


def run_check(tracker_path: Path, warehouse: str | None) -> dict:
    """The check's document; an unreadable warehouse makes every account not ready (warehouse_unavailable)."""
    from quality.lighthouse import check_tracker
    from quality.lighthouse_warehouse import settlement_facts
    from settld.settings import warehouse_target
    from settld.warehouse import WarehouseError, connect

    try:
        tracker = json.loads(tracker_path.read_text())
    except (OSError, json.JSONDecodeError):
        tracker = None
    try:
        with connect(warehouse_target(warehouse), read_only=True) as db:
            return check_tracker(tracker, lambda ref: settlement_facts(db, ref))
    except (WarehouseError, OSError) as error:
        result = check_tracker(tracker, None)
        result["warehouseError"] = str(error)
        return result
    except Exception as error:  # noqa: BLE001 - a missing mart (no run yet) is the same verdict, with its text
        if type(error).__name__ not in ("CatalogException", "UndefinedTable", "BinderException"):
            raise
        result = check_tracker(tracker, None)
        result["warehouseError"] = f"{type(error).__name__}: {str(error).splitlines()[0]}"
        return result


@lighthouse_app.command()
def check(
    tracker: Tracker = DEFAULT_TRACKER,
    warehouse: Annotated[
        str | None, typer.Option(help="Warehouse path or URL (default: SETTLD_WAREHOUSE_URL).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Report folder.")] = Path("artifacts/drills"),
    as_json: Annotated[bool, typer.Option("--json", help="The check's JSON on stdout.")] = False,
) -> None:
    """Validate the tracker and check each active account's production settlement in the warehouse."""
    from reports.golive import write_report

    result = run_check(tracker, warehouse)
    path = write_report(out, result)
    if as_json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        for account in result["accounts"]:
            state = (
                "ready"
                if account["ready"]
                else ("active, NOT ready" if account["isActive"] else "not active")
            )
            problems = ", ".join(account["missing"] + account["errors"])
            console.print(
                f"{account['accountId']}: {account['status']} ({state}){': ' + problems if problems else ''}"
            )
        console.print(f"{result['readyActiveAccounts']} of {result['requiredActiveAccounts']} required active accounts "
                      f"ready; errors: {', '.join(result['errors']) or 'none'}. Written to {path}")  # fmt: skip
    raise typer.Exit(0 if result["ok"] else 1)


@lighthouse_app.command()
def update(
    account_id: Annotated[str, typer.Argument(help="An existing account's id.")],
    tracker: Tracker = DEFAULT_TRACKER,
    status: Annotated[str | None, typer.Option(help="New status.")] = None,
    tenant_id: Annotated[str | None, typer.Option(help="The account's Settld tenant.")] = None,
    signed_at: Annotated[str | None, typer.Option(help="ISO-8601 instant with offset.")] = None,
    go_live_at: Annotated[str | None, typer.Option(help="ISO-8601 instant with offset.")] = None,
    settlement_ref: Annotated[str | None, typer.Option(help="The production settlement's id.")] = None,
    notes: Annotated[str | None, typer.Option(help="Free text.")] = None,
    at: Annotated[str | None, typer.Option(help="updatedAt to stamp (default: now, UTC).")] = None,
) -> None:
    """Change one account of the tracker (status, dates, tenant, settlement reference, notes)."""
    from quality.lighthouse import update_account
    from settld.core import atomic_write

    given = {"status": status, "tenantId": tenant_id, "signedAt": signed_at, "goLiveAt": go_live_at,
             "productionSettlementRef": settlement_ref, "notes": notes}  # fmt: skip
    changes = {name: value for name, value in given.items() if value is not None}
    now = at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        updated = update_account(json.loads(tracker.read_text()), account_id, changes, now=now)
    except ValueError as error:
        console.print(f"[red]refused[/red]: {error}")
        raise typer.Exit(2) from error
    atomic_write(tracker, (json.dumps(updated, indent=2) + "\n").encode("utf-8"))
    console.print(f"{account_id}: {', '.join(sorted(changes)) or 'nothing'} updated; updatedAt {now}")
