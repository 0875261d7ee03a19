"""What the period gate reads from the artifacts on disk: the newest reconciliation report per provider,
and the period's invoice drafts as the marts compute them now (quality/gate.py turns them into checks and
names them in the verdict's inputs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reports.invoices import draft_file_name, invoices_dir, period_drafts, read_finalized
from settld.warehouse import Warehouse


def latest_reports(artifacts_dir: Path, *, tenant_id: str, period: str) -> list[dict[str, Any]]:
    """The newest ReconcileReport.v1 per provider for the tenant and period: newest asOf, then the one
    produced last (a rerun with the same as-of on changed inputs; an unchanged report rewritten is
    touched), then name: the order retention keeps them in, never the hash order of their names."""
    newest: dict[str, tuple[str, int, str, dict]] = {}
    for path in sorted((artifacts_dir / "reconciliation" / tenant_id / period).glob("*.json")):
        report = json.loads(path.read_text())
        provider = report["providerId"]
        candidate = (report["asOf"], path.stat().st_mtime_ns, path.name, {"path": path, "report": report})
        if provider not in newest or candidate[:3] > newest[provider][:3]:
            newest[provider] = candidate
    return [newest[provider][3] for provider in sorted(newest)]


def invoice_drafts(
    db: Warehouse, artifacts_dir: Path, *, tenant_id: str, period: str
) -> list[dict[str, Any]]:
    """The period's drafts as the marts compute them now, each with its file and whether it is on disk."""
    entries = []
    for draft in period_drafts(db.query, period, tenant_id=tenant_id):
        directory = invoices_dir(artifacts_dir, tenant_id, period)
        finalized = read_finalized(artifacts_dir, tenant_id, period, draft["currency"])
        entries.append({
            "file": draft_file_name(draft),
            "currency": draft["currency"],
            "draftHash": draft["draftHash"],
            "subtotalCents": draft["subtotalCents"],
            "present": (directory / draft_file_name(draft)).is_file(),
            "finalizedInvoiceHash": finalized["invoiceHash"] if finalized else None,
        })  # fmt: skip
    return entries
