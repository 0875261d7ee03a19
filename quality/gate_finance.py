"""The period gate's finance checks (docs/DECISIONLOG.md, "Finance integrity"), both blocking:

- `finance.gl_ties_out_with_statements`: no serious finding of the GL against the party statements
  (source finance_reconcile of marts.fct_finance_reconciliation_mismatches) whose triage is unhandled;
- `finance.escrow_net_close_passes`: no serious escrow net close finding (source escrow_net_close) whose
  triage is unhandled, and the kernel closed the month (marts.fct_escrow_net_close: an open month, or one
  without a month close, is not closable).

Both fail while the kernel has not closed a month it has books for: its GL and escrow cannot be judged
yet. A tenant with no kernel books at all for the period (no posting, close, batch or statement: a landing
zone without the kernel's books) passes both with `kernelBooks: false` in the details.
Triage is read as the money-rail check reads it: live from the operator API when one is configured;
without one nobody can triage, so every serious finding counts as unhandled.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from quality.gate_check import Check
from reports.finance import file_name, finance_dir, finance_documents
from settld.vocabulary import (
    ESCROW_NET_CLOSE_SOURCE,
    FINANCE_RECONCILE_SOURCE,
    HANDLED_STATUSES,
    SERIOUS_SEVERITIES,
)
from settld.warehouse import Warehouse

GL_CHECK = "finance.gl_ties_out_with_statements"
ESCROW_CHECK = "finance.escrow_net_close_passes"
DETAIL_EXAMPLES = 20
TriageReader = Callable[[str, str], dict[str, dict[str, Any]]]


def _month_statuses(db: Warehouse, tenant_id: str, period: str) -> dict[str, str]:
    """currency -> status (pass, fail, not_closable) of the period's escrow net close."""
    return {
        row["currency"]: row["status"]
        for row in db.query(
            "select currency, status from marts.fct_escrow_net_close where tenant_id = ? and period = ? "
            "order by currency",
            [tenant_id, period],
        )
    }


def _unhandled(db: Warehouse, tenant_id: str, period: str, source: str,
               records: dict[str, dict[str, Any]]) -> tuple[int, list[str]]:  # fmt: skip
    findings = db.query(
        "select triage_key, severity from marts.fct_finance_reconciliation_mismatches "
        "where tenant_id = ? and period = ? and source_type = ? order by triage_key",
        [tenant_id, period, source],
    )
    unhandled = []
    for row in findings:
        record = records.get(row["triage_key"]) or {}
        severity = record.get("severity") or row["severity"]
        if severity in SERIOUS_SEVERITIES and record.get("status") not in HANDLED_STATUSES:
            unhandled.append(row["triage_key"])
    return len(findings), unhandled


def finance_checks(db: Warehouse, *, tenant_id: str, period: str, triage: TriageReader | None):
    """The two finance checks of one tenant and period (quality.gate_check.Check objects)."""

    records = triage(tenant_id, period) if triage is not None else {}
    source = "operator_api" if triage is not None else "none"
    statuses = _month_statuses(db, tenant_id, period)
    has_books = bool(statuses)
    not_closable = sorted(currency for currency, status in statuses.items() if status == "not_closable")
    checks = []
    for check_id, source_type in (
        (GL_CHECK, FINANCE_RECONCILE_SOURCE),
        (ESCROW_CHECK, ESCROW_NET_CLOSE_SOURCE),
    ):
        count, unhandled = _unhandled(db, tenant_id, period, source_type, records)
        details = {
            "kernelBooks": has_books,
            "monthClosedInKernel": has_books and not not_closable,
            "triageSource": source,
            "findings": count,
            "unhandledSerious": len(unhandled),
            "examples": unhandled[:DETAIL_EXAMPLES],
        }
        if check_id == ESCROW_CHECK:
            details["notClosableCurrencies"] = not_closable
        ok = not unhandled and not not_closable
        checks.append(Check(check_id, ok, True, details))
    return checks


def finance_report_inputs(
    db: Warehouse, artifacts_dir: Path, *, tenant_id: str, period: str
) -> list[dict[str, Any]]:
    """The period's FinanceReconciliationReport.v1 and EscrowNetCloseSnapshot.v1 as the marts compute them
    now, when the tenant has kernel books for the period and their files are on disk (written by the
    daily run's reports): the verdict names them and the close puts them in the evidence bundle."""
    if not _month_statuses(db, tenant_id, period):
        return []
    directory = finance_dir(artifacts_dir, tenant_id, period)
    entries = []
    for stem, content_hash, _ in finance_documents(db.query, tenant_id=tenant_id, period=period):
        name = file_name(stem, content_hash)
        if (directory / name).is_file():
            entries.append({"file": name, "schemaVersion": stem, "hash": content_hash})
    return entries
