"""What `settld run` prints when it is done: what it loaded and quarantined, every mismatch it published to
the operator API's queue (money-rail and invoice mismatches), the gate's verdicts per period, the marts,
and the commands to run next."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from rich.console import Console

from settld.cli.landing_verdict import LandingVerdict, quarantine_lines
from settld.cli.tables import print_table, table
from settld.settings import Settings, WarehouseTarget
from settld.vocabulary import SERIOUS_SEVERITIES
from settld.warehouse import Warehouse
from settld.warehouse import connect as connect_warehouse

# The marts the publish stage copies into the operator API's queue (orchestration/defs/operator_api/).
PUBLISHED_MISMATCH_MARTS = (
    "fct_reconciliation_mismatches",
    "fct_billing_invoice_mismatches",
    "fct_finance_reconciliation_mismatches",
)


def print_summary(
    console: Console,
    settings: Settings,
    target: WarehouseTarget,
    *,
    periods: tuple[str, str] | None,
    landing: LandingVerdict | None = None,
) -> None:
    with connect_warehouse(target, read_only=True) as db:
        _print_loads(console, db)
        if landing is not None:
            _print_landing(console, landing)
        marts = db.relations("marts")
        _print_mismatches(console, db, marts)
        shown = table("Marts", "model", "rows", right=("rows",))
        for name in marts:
            count = db.scalar(f'select count(*) from marts."{name}"')
            shown.add_row(f"marts.{name}", f"{count:,}")
        print_table(console, shown)
    verdicts = _verdicts(settings.artifacts_dir, periods)
    _print_verdicts(console, verdicts)
    _print_next(console, verdicts, periods)


def _print_loads(console: Console, db: Warehouse) -> None:
    loads = db.query(
        """
        select dataset, count(*) as files, sum(rows_in) as rows_in, sum(rows_loaded) as rows_loaded,
               sum(rows_quarantined) as rows_quarantined
        from raw.load_files where status = 'loaded' group by dataset order by dataset
        """
    )
    shown = table("Raw layer (all loaded files)", "dataset", "files", "rows in", "loaded", "quarantined",
                  right=("files", "rows in", "loaded", "quarantined"))  # fmt: skip
    for row in loads:
        dataset, *numbers = row.values()
        shown.add_row(dataset, *(f"{int(n):,}" for n in numbers))
    print_table(console, shown)
    reasons = db.query(
        "select dataset, reason_code, count(*) as row_count from raw.quarantine "
        "group by dataset, reason_code order by dataset, reason_code"
    )
    if reasons:
        shown = table("Quarantine (raw.quarantine) by reason", "dataset", "reason", "rows", right=("rows",))
        for row in reasons:
            shown.add_row(row["dataset"], row["reason_code"], f"{row['row_count']:,}")
        print_table(console, shown)


def _print_landing(console: Console, landing: LandingVerdict) -> None:
    """How much each dataset quarantined against its threshold, and what a person must see anyway: files
    without data rows, duplicates (rejected files and sick datasets were reported after the load)."""
    lines = quarantine_lines(landing)
    if lines:
        console.print("Quarantined rows:\n  " + "\n  ".join(lines), soft_wrap=True, markup=False)
    if landing.warnings:
        console.print("[yellow]Landing warnings:[/]", soft_wrap=True)
        console.print("  " + "\n  ".join(landing.warnings), soft_wrap=True, markup=False, highlight=False)


def _print_mismatches(console: Console, db: Warehouse, marts: list[str]) -> None:
    sources = [name for name in PUBLISHED_MISMATCH_MARTS if name in marts]
    if not sources:
        return
    union = " union all ".join(
        f"select '{name}' as mart, {rank} as mart_rank, severity, severity_rank, mismatch_type, tenant_id "
        f"from marts.{name}"
        for rank, name in enumerate(sources)
    )
    groups = db.query(
        "select mart, severity, mismatch_type, count(*) as mismatches, count(distinct tenant_id) as tenants "
        f"from ({union}) as published group by mart, mart_rank, severity, severity_rank, mismatch_type "
        "order by mart_rank, severity_rank, mismatch_type"
    )
    shown = table("Mismatches published to the operator API's triage queue", "source (mart)", "severity",
                  "mismatch type", "mismatches", "tenants", right=("mismatches", "tenants"))  # fmt: skip
    for row in groups:
        shown.add_row(f"marts.{row['mart']}", row["severity"], row["mismatch_type"], f"{row['mismatches']:,}",
                      f"{row['tenants']:,}")  # fmt: skip
    print_table(console, shown)
    total = sum(row["mismatches"] for row in groups)
    serious = sum(row["mismatches"] for row in groups if row["severity"] in SERIOUS_SEVERITIES)
    console.print(
        f"{total:,} mismatches published; {serious:,} of them {' or '.join(sorted(SERIOUS_SEVERITIES))}: "
        "they block their month's close until resolved or dismissed (`settld mismatches`, `settld triage`).",
        soft_wrap=True,
    )


def _verdicts(artifacts_dir: Path, periods: tuple[str, str] | None) -> list[dict]:
    """The gate verdicts the run wrote (artifacts/gates/<tenant>/<period>.json) for its periods."""
    if periods is None:
        return []
    files = sorted((artifacts_dir / "gates").glob("*/*.json"))
    verdicts = [json.loads(path.read_text()) for path in files if periods[0] <= path.stem <= periods[1]]
    return sorted(verdicts, key=lambda v: (v["period"], v["tenantId"]))


def _print_verdicts(console: Console, verdicts: list[dict]) -> None:
    if not verdicts:
        return
    shown = table("Period gate (artifacts/gates/<tenant>/<period>.json)", "period", "tenants", "ready to close",
                  "red", "what blocks (check: tenants)", right=("tenants", "ready to close", "red"))  # fmt: skip
    for period in sorted({v["period"] for v in verdicts}):
        own = [v for v in verdicts if v["period"] == period]
        red = [v for v in own if not v["verdict"]["ok"]]
        blocking = Counter(check for v in red for check in v["verdict"]["failingCheckIds"])
        shown.add_row(period, str(len(own)), str(len(own) - len(red)), str(len(red)),
                      "\n".join(f"{check}: {n}" for check, n in sorted(blocking.items())) or "-")  # fmt: skip
    print_table(console, shown)


def _print_next(console: Console, verdicts: list[dict], periods: tuple[str, str] | None) -> None:
    period = periods[1] if periods else "YYYY-MM"
    latest = [v for v in verdicts if v["period"] == period]
    tenant = next((v["tenantId"] for v in latest if not v["verdict"]["ok"]), None) or next(
        (v["tenantId"] for v in latest), "TENANT"
    )
    lines = [
        "make ui    # the Dagster UI, http://127.0.0.1:3000: lineage, checks, gate verdicts per period",
        "make api   # the operator API, http://127.0.0.1:8000/docs: queue, triage, invoices, close",
        f".venv/bin/settld mismatches --period {period} --tenant {tenant}   # what did not reconcile, and why",
        f".venv/bin/settld invoices --period {period} --tenant {tenant}     # what the tenant is invoiced",
        f".venv/bin/settld gate --period {period} --tenant {tenant}         # is it ready to close",
        f".venv/bin/settld period close {period} --tenant {tenant}          # when the gate is green",
    ]
    console.print(
        "Next (README.md, 'Closing a month'):\n  " + "\n  ".join(lines), soft_wrap=True, markup=False
    )
