"""`settld mismatches` and `settld invoices`: which payouts did not reconcile and why, and what each tenant
was invoiced, as tables (or `--json` for scripts) from the warehouse's marts and the operator API.

Mismatches come from the marts the run publishes into the API's queue (`fct_reconciliation_mismatches`,
and `fct_billing_invoice_mismatches` for Stripe invoices that disagree with Settld's drafts); their triage
status and any severity override are read live from the API database, as the period gate reads them.
Invoices are the drafts of `fct_invoice_drafts` / `fct_invoice_draft_lines` per tenant and currency, or,
once the close finalized them, the finalized invoice (`<currency>-finalized.json`), which never changes.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from settld.cli.api_database import require_api_database
from settld.cli.tables import amount, decimal_amount, print_json, print_table, table
from settld.core import parse_period
from settld.settings import Settings, warehouse_target
from settld.vocabulary import HANDLED_STATUSES, MISMATCH_TYPES, SEVERITY_RANK, Severity

console = Console()
PeriodOption = Annotated[str, typer.Option("--period", help="A UTC month, YYYY-MM.")]
TenantOption = Annotated[list[str] | None, typer.Option("--tenant", help="Only these tenants (repeatable).")]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON on stdout, for scripts (e.g. jq).")]
MISMATCH_SQL = """
select triage_key, tenant_id, period, provider_id, source_type, mismatch_type, mismatch_key, mismatch_code,
       severity, expected_amount_cents, actual_amount_cents, amount_delta_cents, currency, actual_currency
from marts.{mart} where period = ?{tenants}
"""
MISMATCH_MARTS = (
    "fct_reconciliation_mismatches",
    "fct_billing_invoice_mismatches",
    "fct_finance_reconciliation_mismatches",
)


def _period(value: str) -> str:
    try:
        return parse_period(value)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--period") from error


def _query_warehouse(sql_for: Any) -> list[dict[str, Any]]:
    """Rows from the warehouse (`sql_for(db)` returns them), or exit 2 saying why it cannot be read."""
    from settld.warehouse import WarehouseError, connect

    try:
        with connect(warehouse_target(Settings().warehouse_url), read_only=True) as db:
            return sql_for(db)
    except WarehouseError as error:
        console.print(f"[red]{error.code}[/]: {error} (has `settld run` built the marts?)", soft_wrap=True)
        raise typer.Exit(2) from error


def period_mismatches(period: str, tenants: list[str] | None) -> list[dict[str, Any]]:
    """The period's published mismatches with their live triage: effective severity, status, handled."""
    from api.periods.verdicts import triage_reader

    api_url = require_api_database(console, Settings())
    where = f" and tenant_id in ({', '.join('?' for _ in tenants)})" if tenants else ""

    def read(db: Any) -> list[dict[str, Any]]:
        present = set(db.relations("marts"))
        return [row for mart in MISMATCH_MARTS if mart in present
                for row in db.query(MISMATCH_SQL.format(mart=mart, tenants=where), [period, *(tenants or [])])]  # fmt: skip

    rows, read_triage, triage = _query_warehouse(read), triage_reader(api_url), {}
    for row in rows:
        if row["tenant_id"] not in triage:
            triage[row["tenant_id"]] = read_triage(row["tenant_id"], period)
        decision = triage[row["tenant_id"]].get(row["triage_key"], {})
        row["published_severity"] = row["severity"]
        row["severity"] = decision.get("severity") or row["severity"]
        row["triage_status"] = decision.get("status") or "open"
        row["is_handled"] = row["triage_status"] in HANDLED_STATUSES
        row["meaning"] = MISMATCH_TYPES[row["mismatch_type"]].title
        actual_currency = row["actual_currency"] or row["currency"]
        row["expected_amount"] = decimal_amount(row["expected_amount_cents"], row["currency"])
        row["actual_amount"] = decimal_amount(row["actual_amount_cents"], actual_currency)
        row["amount_delta"] = decimal_amount(row["amount_delta_cents"], row["currency"])
    return sorted(rows, key=lambda r: (SEVERITY_RANK.get(r["severity"], 99), r["tenant_id"], r["mismatch_type"],
                                       r["triage_key"]))  # fmt: skip


def mismatches(
    period: PeriodOption,
    tenant: TenantOption = None,
    severity: Annotated[
        list[Severity] | None,
        typer.Option("--severity", help="Only these (effective) severities (repeatable)."),
    ] = None,
    unhandled: Annotated[
        bool, typer.Option("--unhandled", help="Only those not yet resolved or dismissed.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Which payouts (and Stripe invoices) did not reconcile in a period, and why, with their triage keys."""
    rows = period_mismatches(_period(period), sorted(set(tenant)) if tenant else None)
    if severity:
        rows = [row for row in rows if row["severity"] in {s.value for s in severity}]
    if unhandled:
        rows = [row for row in rows if not row["is_handled"]]
    if as_json:
        print_json(rows)
        return
    shown = table(f"Mismatches {period} (--json adds each payout key and code)", "triage key", "tenant",
                  "severity", "type", "provider", "expected", "actual", "difference", "triage",
                  right=("expected", "actual", "difference"))  # fmt: skip
    for row in rows:
        actual_currency = row["actual_currency"] or row["currency"]
        shown.add_row(row["triage_key"], row["tenant_id"], row["severity"], row["mismatch_type"],
                      row["provider_id"], amount(row["expected_amount_cents"], row["currency"]),
                      amount(row["actual_amount_cents"], actual_currency),
                      amount(row["amount_delta_cents"], row["currency"]), row["triage_status"])  # fmt: skip
    if not rows:
        console.print(f"No mismatches in {period} match.")
        return
    print_table(console, shown)
    legend = table("What each type means (dbt_project/seeds/reconciliation_mismatch_types.csv)",
                   "type", "severity", "meaning", wrap=("meaning",))  # fmt: skip
    for name in sorted({row["mismatch_type"] for row in rows}, key=list(MISMATCH_TYPES).index):
        legend.add_row(name, MISMATCH_TYPES[name].severity, MISMATCH_TYPES[name].title)
    print_table(console, legend)
    handled = sum(row["is_handled"] for row in rows)
    console.print(f"{len(rows)} mismatches, {handled} resolved or dismissed. Work one with `settld triage "
                  "TRIAGE_KEY --tenant T --status ...` or the API's POST /ops/finance/reconciliation/triage.",
                  soft_wrap=True)  # fmt: skip


def period_invoices(period: str, tenants: list[str] | None) -> list[dict[str, Any]]:
    """Each tenant's invoice per currency for a period: the finalized invoice when the close wrote one,
    else the current draft, with their lines and files."""
    from reports.invoices import draft_file_name, finalized_path, invoices_dir, period_drafts, read_finalized

    artifacts = Settings().artifacts_dir
    drafts = _query_warehouse(lambda db: [d for t in (tenants or [None])
                                          for d in period_drafts(db.query, period, tenant_id=t)])  # fmt: skip
    invoices = []
    for draft in drafts:
        tenant_id, currency = draft["tenantId"], draft["currency"]
        finalized = read_finalized(artifacts, tenant_id, period, currency)
        document = finalized or draft
        invoices.append({
            "tenant_id": tenant_id, "period": period, "currency": currency, "status": document["status"],
            "plan": document["plan"], "plan_source": document["planSource"],
            "subtotal_cents": document["subtotalCents"],
            "subtotal": decimal_amount(document["subtotalCents"], currency),
            "finalized_at": finalized and finalized["finalizedAt"],
            "changed_since_finalized": bool(finalized and finalized["draftHash"] != draft["draftHash"]),
            "file": str(finalized_path(artifacts, tenant_id, period, currency) if finalized
                        else invoices_dir(artifacts, tenant_id, period) / draft_file_name(draft)),
            "lines": [{**line, "amount": decimal_amount(line["amountCents"], line["currency"])}
                      for line in document["lineItems"]],
        })  # fmt: skip
    return invoices


def _quantity(line: dict[str, Any]) -> str:
    """A line's quantity as the invoice means it: settled volume is money (in the line's currency) at a fee
    in basis points; other lines count units at a unit price."""
    if "unitAmountBps" in line:
        return f"{amount(line['quantity'], line['currency'])} at {line['unitAmountBps']} bps"
    unit = f" x {amount(line['unitAmountCents'], line['currency'])}" if "unitAmountCents" in line else ""
    return f"{line['quantity']:,}{unit}"


def invoices(period: PeriodOption, tenant: TenantOption = None, as_json: JsonOption = False) -> None:
    """What each tenant was invoiced for a period: per currency, draft or finalized, with its lines."""
    rows = period_invoices(_period(period), sorted(set(tenant)) if tenant else None)
    if as_json:
        print_json(rows)
        return
    headers = table(f"Invoices {period}", "tenant", "currency", "plan", "status", "subtotal", "lines",
                    right=("subtotal", "lines"))  # fmt: skip
    lines = table(f"Invoice lines {period}", "tenant", "currency", "code", "description", "quantity", "amount",
                  wrap=("description",), right=("quantity", "amount"))  # fmt: skip
    for row in rows:
        status = row["status"] + (
            " (usage changed since: adjusted next month)" if row["changed_since_finalized"] else ""
        )
        headers.add_row(row["tenant_id"], row["currency"], f"{row['plan']} ({row['plan_source']})", status,
                        amount(row["subtotal_cents"], row["currency"]), str(len(row["lines"])))  # fmt: skip
        for line in row["lines"]:
            lines.add_row(row["tenant_id"], row["currency"], line["code"], line["description"] or "",
                          _quantity(line), amount(line["amountCents"], line["currency"]))  # fmt: skip
    if not rows:
        console.print(f"No invoice drafts for {period} (has `settld run` built the marts?)")
        return
    print_table(console, headers)
    print_table(console, lines)
    console.print("Files (a draft until the close finalizes it):")
    for row in rows:
        console.print(row["file"], soft_wrap=True, markup=False, highlight=False)
