"""`BillingInvoiceDraft.v1`: one invoice draft per tenant, period and currency, built from the billing marts.

A draft is canonical JSON whose `draftHash` is the sha256 of everything else in it, stored at
`<artifacts>/invoices/<tenant>/<period>/<currency>-<hash16>.json`: the same usage gives the same bytes.

A draft becomes final only through the period close (api/periods/service.py): the close copies the
draft the gate verdict named into `<currency>-finalized.json` (status `finalized`, with the close instant,
the verdict's asOf and never the clock, as `finalizedAt`, and the verdict hash). A finalized invoice is never rewritten. When the usage of a finalized period changes
later (a late settlement, a correction), no new draft is written for it: the difference per line is
written as a `BillingInvoiceAdjustment.v1` into the next period that has no finalized invoice, under
`<artifacts>/invoices/<tenant>/<next period>/adjustments/`, so it is billed there, visibly, never silently
added to a closed month. Rules: docs/DECISIONLOG.md ("Billing: usage and invoice drafts").
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from reports.artifacts import write_artifact, write_once
from reports.reconciliation import Query
from settld.core import canonical_hash, canonical_json, iso_micro, next_period

DRAFT_SCHEMA = "BillingInvoiceDraft.v1"
ADJUSTMENT_SCHEMA = "BillingInvoiceAdjustment.v1"


def _line(row: dict[str, Any]) -> dict[str, Any]:
    """One line item; only the unit fields that apply to its code are present."""
    line = {
        "code": row["line_code"],
        "description": row["description"],
        "quantity": row["quantity"],
        "amountCents": row["amount_cents"],
        "currency": row["currency"],
        "sourceEventCount": row["source_event_count"],
        "sourceEventDigest": row["source_event_digest"],
    }
    for column, key in (("unit_amount_cents", "unitAmountCents"), ("unit_amount_bps", "unitAmountBps"),
                        ("unit_amount_milli_cents", "unitAmountMilliCents")):  # fmt: skip
        if row.get(column) is not None:
            line[key] = row[column]
    return line


def build_draft(header: dict[str, Any], lines: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The draft document of one fct_invoice_drafts row and its fct_invoice_draft_lines rows."""
    items = sorted((_line(row) for row in lines), key=lambda item: (item["code"], item["amountCents"]))
    core = {
        "schemaVersion": DRAFT_SCHEMA,
        "artifactType": DRAFT_SCHEMA,
        "status": "draft",
        "tenantId": header["tenant_id"],
        "period": header["period"],
        "currency": header["currency"],
        "plan": header["plan"],
        "planSource": header["plan_source"],
        "eventCount": header["event_count"],
        "eventsDigest": header["events_digest"],
        "lineItems": items,
        "subtotalCents": sum(item["amountCents"] for item in items),
    }
    draft_hash = canonical_hash(core)
    artifact_id = (
        f"billing_invoice_draft_{core['tenantId']}_{core['period']}_{core['currency']}_{draft_hash[:24]}"
    )
    return {**core, "artifactId": artifact_id, "draftHash": draft_hash}


def draft_file_name(draft: dict[str, Any]) -> str:
    return f"{draft['currency']}-{draft['draftHash'][:16]}.json"


def invoices_dir(artifacts_dir: Path, tenant_id: str, period: str) -> Path:
    return artifacts_dir / "invoices" / tenant_id / period


def finalized_path(artifacts_dir: Path, tenant_id: str, period: str, currency: str) -> Path:
    return invoices_dir(artifacts_dir, tenant_id, period) / f"{currency}-finalized.json"


def read_finalized(artifacts_dir: Path, tenant_id: str, period: str, currency: str) -> dict[str, Any] | None:
    path = finalized_path(artifacts_dir, tenant_id, period, currency)
    return json.loads(path.read_text()) if path.is_file() else None


def _group_lines(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault((row["tenant_id"], row["currency"]), []).append(row)
    return grouped


def period_drafts(query: Query, period: str, *, tenant_id: str | None = None) -> list[dict[str, Any]]:
    """The drafts the warehouse holds for a period (one tenant's, or every tenant's)."""
    where, params = "period = ?", [period]
    if tenant_id is not None:
        where, params = where + " and tenant_id = ?", [*params, tenant_id]
    headers = query(
        f"select * from marts.fct_invoice_drafts where {where} order by tenant_id, currency", params
    )
    lines = query(f"select * from marts.fct_invoice_draft_lines where {where}", params)
    grouped = _group_lines(lines)
    return [
        build_draft(header, grouped.get((header["tenant_id"], header["currency"]), [])) for header in headers
    ]


def build_adjustment(
    finalized: dict[str, Any], current: dict[str, Any], *, into_period: str
) -> dict[str, Any]:
    """What changed since `finalized` was issued, per line code, to bill in `into_period`."""
    amounts: dict[str, list[int]] = {}
    for index, document in enumerate((finalized, current)):
        for item in document["lineItems"]:
            amounts.setdefault(item["code"], [0, 0])[index] += item["amountCents"]
    deltas = [
        {"code": code, "finalizedAmountCents": old, "currentAmountCents": new, "deltaCents": new - old}
        for code, (old, new) in sorted(amounts.items())
        if new != old
    ]
    core = {
        "schemaVersion": ADJUSTMENT_SCHEMA,
        "artifactType": ADJUSTMENT_SCHEMA,
        "tenantId": current["tenantId"],
        "period": into_period,
        "adjustsPeriod": current["period"],
        "currency": current["currency"],
        "finalizedInvoiceHash": finalized["invoiceHash"],
        "finalizedEventsDigest": finalized["eventsDigest"],
        "currentEventsDigest": current["eventsDigest"],
        "currentDraftHash": current["draftHash"],
        "lineDeltas": deltas,
        "totalDeltaCents": sum(delta["deltaCents"] for delta in deltas),
    }
    return {**core, "adjustmentHash": canonical_hash(core)}


def _open_period_after(artifacts_dir: Path, tenant_id: str, period: str, currency: str) -> str:
    """The first period after `period` without a finalized invoice in `currency`."""
    candidate = next_period(period)
    while finalized_path(artifacts_dir, tenant_id, candidate, currency).is_file():
        candidate = next_period(candidate)
    return candidate


@dataclass
class InvoiceRun:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    adjustments: list[Path] = field(default_factory=list)
    drafts: list[dict[str, Any]] = field(default_factory=list)


def write_drafts(query: Query, *, artifacts_dir: Path, periods: Iterable[str]) -> InvoiceRun:
    """Write the drafts of each period; for a finalized invoice whose usage changed, an adjustment."""
    run = InvoiceRun()
    for period in sorted(set(periods)):
        for draft in period_drafts(query, period):
            tenant_id, currency = draft["tenantId"], draft["currency"]
            finalized = read_finalized(artifacts_dir, tenant_id, period, currency)
            if finalized is not None:
                if finalized["draftHash"] != draft["draftHash"]:
                    into = _open_period_after(artifacts_dir, tenant_id, period, currency)
                    adjustment = build_adjustment(finalized, draft, into_period=into)
                    directory = invoices_dir(artifacts_dir, tenant_id, into) / "adjustments"
                    stem = f"{currency}-from-{period}"
                    run.adjustments.append(
                        write_artifact(directory, stem, adjustment["adjustmentHash"], adjustment).path
                    )
                continue  # a finalized period gets no new draft
            written = write_artifact(invoices_dir(artifacts_dir, tenant_id, period), currency,
                                     draft["draftHash"], draft)  # fmt: skip
            (run.written if written.created else run.unchanged).append(written.path)
            run.drafts.append(draft)
    return run


def finalize(artifacts_dir: Path, draft: dict[str, Any], *, finalized_at: datetime, verdict_hash: str
             ) -> tuple[dict[str, Any], bool]:  # fmt: skip
    """The finalized invoice of `draft`'s tenant, period and currency: written from `draft` unless one
    exists already, which is then returned unchanged (a finalized invoice never changes).
    Returns (the finalized document, whether it was written now)."""
    existing = read_finalized(artifacts_dir, draft["tenantId"], draft["period"], draft["currency"])
    if existing is not None:
        return existing, False
    core = {key: value for key, value in draft.items() if key not in ("artifactId",)}
    core.update(status="finalized", finalizedAt=iso_micro(finalized_at), gateVerdictHash=verdict_hash)
    invoice_hash = canonical_hash(core)
    document = {**core, "invoiceHash": invoice_hash,
                "artifactId": f"billing_invoice_{draft['tenantId']}_{draft['period']}_{draft['currency']}_{invoice_hash[:24]}"}  # fmt: skip
    path = finalized_path(artifacts_dir, draft["tenantId"], draft["period"], draft["currency"])
    write_once(path, (canonical_json(document) + "\n").encode("utf-8"))
    return document, True
