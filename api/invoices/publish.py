"""Publish marts.fct_invoice_drafts and marts.fct_invoice_draft_lines into the API database (plain
function, no FastAPI; the pipeline's publish asset calls it).

Semantics (docs/DECISIONLOG.md, "Billing: usage and invoice drafts"):
- `drafts` and `lines` are the whole marts (or their rows of the named `periods`). Each draft's document is
  built as the artifact writer builds it (reports/invoices.py `build_draft`), so `draft_hash` is the draft
  file's `draftHash`.
- A new draft is inserted; a draft whose hash changed is rewritten with its lines; an identical one is not
  touched: publishing the same marts again writes nothing. A draft gone from the marts is deleted (nothing
  refers to a draft).
- A finalised invoice is never written or deleted by a publish. When the marts compute another draft for a
  finalised month (a late settlement, a correction), the difference per line code is an adjustment billed
  in the next open month: the first later month that is not closed and has no finalised invoice in that
  currency. It follows the publishes until the close of that month fixes it; a later change is a new
  adjustment on top of the fixed ones. A finalised month whose draft equals what was billed has none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.core.migrate import database_at_head
from api.core.published_rows import RowShape, typed_row, utc_instant
from api.invoices.models import Invoice, InvoiceAdjustment
from api.invoices.service import Key, delete_invoice, invoice_lines, key_of, new_invoice, write_document
from api.invoices.states import InvoiceStatus
from api.periods.service import closed_periods
from reports.invoices import build_adjustment, build_draft
from settld.core import canonical_json, next_period, parse_period

DRAFT_ROW = RowShape(
    required_text=("tenant_id", "period", "currency", "plan", "plan_source", "events_digest"),
    required_int=("event_count", "subtotal_cents"),
)
LINE_ROW = RowShape(
    required_text=("tenant_id", "period", "currency", "line_code", "description", "source_event_digest"),
    required_int=("quantity", "amount_cents", "source_event_count"),
    optional_int=("unit_amount_cents", "unit_amount_bps", "unit_amount_milli_cents"),
)


@dataclass(frozen=True)
class InvoicePublishResult:
    inserted: int
    updated: int
    unchanged: int
    removed: int
    finalized_kept: int  # finalised invoices the marts still hold a draft for, left as they were
    adjustments_changed: int  # adjustments written, changed or withdrawn


def _row_key(row: Mapping[str, Any]) -> Key:
    return row["tenant_id"], row["period"], row["currency"]


def draft_documents(
    drafts: Iterable[Mapping[str, Any]], lines: Iterable[Mapping[str, Any]], *, scope: set[str] | None
) -> dict[Key, dict[str, Any]]:
    """The draft document of every header row with its line rows; ValueError for a row that does not fit."""
    headers: dict[Key, dict[str, Any]] = {}
    for index, raw in enumerate(drafts):
        row = typed_row(raw, DRAFT_ROW, index, what="draft row")
        parse_period(row["period"])
        if scope is not None and row["period"] not in scope:
            raise ValueError(f"draft row {index}: period {row['period']} is outside the published periods")
        if _row_key(row) in headers:
            raise ValueError(f"draft row {index}: a second draft for {_row_key(row)}")
        headers[_row_key(row)] = row
    grouped: dict[Key, list[dict[str, Any]]] = {key: [] for key in headers}
    for index, raw in enumerate(lines):
        row = typed_row(raw, LINE_ROW, index, what="line row")
        if _row_key(row) not in grouped:
            raise ValueError(f"line row {index}: no draft for {_row_key(row)}")
        if row["line_code"] in {line["line_code"] for line in grouped[_row_key(row)]}:
            raise ValueError(f"line row {index}: a second {row['line_code']} line for {_row_key(row)}")
        grouped[_row_key(row)].append(row)
    documents = {}
    for key, header in headers.items():
        document = build_draft(header, grouped[key])
        if document["subtotalCents"] != header["subtotal_cents"]:
            raise ValueError(f"draft {key}: subtotal_cents {header['subtotal_cents']} is not the sum of its "
                             f"lines ({document['subtotalCents']})")  # fmt: skip
        documents[key] = document
    return documents


def _open_month_after(period: str, *, taken: set[str]) -> str:
    candidate = next_period(period)
    while candidate in taken:
        candidate = next_period(candidate)
    return candidate


def _billed(session: Session, invoice: Invoice, fixed: list[InvoiceAdjustment]) -> dict[str, Any]:
    """What was billed for a finalised month, as `build_adjustment` reads a finalised invoice: its lines,
    plus the line deltas of the adjustments fixed by later closes."""
    items = [
        {"code": line.line_code, "amountCents": line.amount_cents} for line in invoice_lines(session, invoice)
    ]
    items += [
        {"code": delta["code"], "amountCents": delta["deltaCents"]}
        for adjustment in fixed
        for delta in json.loads(adjustment.line_deltas)
    ]
    return {"lineItems": items, "invoiceHash": invoice.invoice_hash, "eventsDigest": invoice.events_digest}


def _adjust(session: Session, invoice: Invoice, document: dict[str, Any], *, into: str,
            published_at: datetime) -> bool:  # fmt: skip
    """Bring the open adjustment of a finalised `invoice` in line with `document`; whether it changed."""
    adjustments = session.scalars(
        select(InvoiceAdjustment).where(
            InvoiceAdjustment.tenant_id == invoice.tenant_id,
            InvoiceAdjustment.adjusts_period == invoice.period,
            InvoiceAdjustment.currency == invoice.currency,
        )
    ).all()
    fixed = sorted((a for a in adjustments if a.finalized_at is not None), key=lambda a: a.into_period)
    open_ = [a for a in adjustments if a.finalized_at is None]
    billed_draft = fixed[-1].current_draft_hash if fixed else invoice.draft_hash
    if document["draftHash"] == billed_draft:  # billed as it is now: nothing (more) to adjust
        for adjustment in open_:
            session.delete(adjustment)
        return bool(open_)
    wanted = build_adjustment(_billed(session, invoice, fixed), document, into_period=into)
    if [(a.into_period, a.adjustment_hash) for a in open_] == [(into, wanted["adjustmentHash"])]:
        return False  # as published before
    for adjustment in open_:
        session.delete(adjustment)
    session.flush()  # the withdrawn row goes before its replacement (the same key when into is the same)
    session.add(
        InvoiceAdjustment(
            tenant_id=invoice.tenant_id, adjusts_period=invoice.period, currency=invoice.currency,
            into_period=into, finalized_invoice_hash=invoice.invoice_hash,
            current_draft_hash=document["draftHash"], current_events_digest=document["eventsDigest"],
            line_deltas=canonical_json(wanted["lineDeltas"]), total_delta_cents=wanted["totalDeltaCents"],
            adjustment_hash=wanted["adjustmentHash"], published_at=published_at,
        )
    )  # fmt: skip
    return True


def publish_invoices(
    database_url: str,
    drafts: list[dict[str, Any]],
    lines: list[dict[str, Any]],
    *,
    published_at: datetime,
    periods: Iterable[str] | None = None,
) -> InvoicePublishResult:
    """Upsert the drafts, delete the ones that disappeared, adjust finalised months, in one transaction
    (see module docstring); refuses an API database not migrated to head (API_SCHEMA_OUTDATED)."""
    published_at = utc_instant(published_at)
    scope = None if periods is None else {parse_period(period) for period in periods}
    documents = draft_documents(drafts, lines, scope=scope)
    counts = dict.fromkeys(InvoicePublishResult.__dataclass_fields__, 0)
    with database_at_head(database_url) as database, database.transaction() as session:
        query = select(Invoice)
        if scope is not None:
            query = query.where(Invoice.period.in_(sorted(scope)))
        existing = {key_of(invoice): invoice for invoice in session.scalars(query)}
        # Months an adjustment cannot go into: closed ones, and those finalised in its currency.
        closed: dict[str, set[str]] = {}
        for tenant_id, period in closed_periods(session):
            closed.setdefault(tenant_id, set()).add(period)
        finalized: dict[tuple[str, str], set[str]] = {}
        finalized_keys = select(Invoice.tenant_id, Invoice.period, Invoice.currency).where(
            Invoice.status == InvoiceStatus.finalized.value
        )
        for tenant_id, period, currency in session.execute(finalized_keys):
            finalized.setdefault((tenant_id, currency), set()).add(period)
        for key in sorted(documents):
            document, stored = documents[key], existing.get(key)
            if stored is None:
                invoice = new_invoice(key, published_at=published_at)
                session.add(invoice)
                write_document(session, invoice, document)
                counts["inserted"] += 1
            elif stored.status == InvoiceStatus.finalized:
                tenant_id, period, currency = key
                taken = closed.get(tenant_id, set()) | finalized.get((tenant_id, currency), set())
                into = _open_month_after(period, taken=taken)
                counts["finalized_kept"] += 1
                counts["adjustments_changed"] += _adjust(session, stored, document, into=into,
                                                         published_at=published_at)  # fmt: skip
            elif stored.draft_hash == document["draftHash"]:
                counts["unchanged"] += 1
            else:
                write_document(session, stored, document)
                stored.published_at = published_at
                counts["updated"] += 1
        for key in sorted(set(existing) - set(documents)):
            if existing[key].status == InvoiceStatus.draft:
                delete_invoice(session, existing[key])
                counts["removed"] += 1
    return InvoicePublishResult(**counts)
