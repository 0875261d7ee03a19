"""Invoices: writing a draft or finalised document into the tables, the close's part, and the reads.

A document is a BillingInvoiceDraft.v1 (reports/invoices.py `build_draft`) or the finalised invoice the
period close writes from it (`finalize`): the tables hold the same header and line items, so the API and
the files agree by construction. These functions write through the caller's session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from api.core.pagination import KeysetOrder, SortKey, paginate
from api.invoices.models import Invoice, InvoiceAdjustment, InvoiceLine
from api.invoices.problems import InvoiceNotFound
from api.invoices.schemas import InvoiceQuery
from api.invoices.states import INVOICE, InvoiceStatus

Key = tuple[str, str, str]  # (tenant_id, period, currency)
UNIT_FIELDS = (
    ("unitAmountCents", "unit_amount_cents"),
    ("unitAmountMilliCents", "unit_amount_milli_cents"),
    ("unitAmountBps", "unit_amount_bps"),
)
# Newest period first, then currency: with the tenant fixed by every query, the primary key.
INVOICE_ORDER = KeysetOrder("invoices", (SortKey(Invoice.period, descending=True), SortKey(Invoice.currency)))


def key_of(invoice: Invoice | InvoiceLine) -> Key:
    return invoice.tenant_id, invoice.period, invoice.currency


def _where_key(model: type[InvoiceLine] | type[Invoice], key: Key) -> list[Any]:
    tenant_id, period, currency = key
    return [model.tenant_id == tenant_id, model.period == period, model.currency == currency]


def invoice_lines(session: Session, invoice: Invoice) -> list[InvoiceLine]:
    query = (
        select(InvoiceLine).where(*_where_key(InvoiceLine, key_of(invoice))).order_by(InvoiceLine.line_code)
    )
    return list(session.scalars(query))


def write_document(session: Session, invoice: Invoice, document: dict[str, Any]) -> None:
    """Set `invoice`'s header and lines to those of `document` (its lines replace the stored ones)."""
    invoice.plan = document.get("plan")
    invoice.plan_source = document.get("planSource")
    invoice.event_count = document.get("eventCount")
    invoice.events_digest = document.get("eventsDigest")
    invoice.subtotal_cents = document["subtotalCents"]
    invoice.draft_hash = document.get("draftHash")
    session.flush()  # the invoice row exists before its lines refer to it
    session.execute(delete(InvoiceLine).where(*_where_key(InvoiceLine, key_of(invoice))))
    session.add_all(
        InvoiceLine(
            tenant_id=invoice.tenant_id,
            period=invoice.period,
            currency=invoice.currency,
            line_code=item["code"],
            description=item["description"],
            quantity=item["quantity"],
            amount_cents=item["amountCents"],
            source_event_count=item["sourceEventCount"],
            source_event_digest=item["sourceEventDigest"],
            **{column: item.get(name) for name, column in UNIT_FIELDS},
        )
        for item in document.get("lineItems", [])
    )


def new_invoice(key: Key, *, published_at: datetime | None) -> Invoice:
    tenant_id, period, currency = key
    return Invoice(tenant_id=tenant_id, period=period, currency=currency, status=InvoiceStatus.draft.value,
                   first_published_at=published_at, published_at=published_at)  # fmt: skip


def delete_invoice(session: Session, invoice: Invoice) -> None:
    session.execute(delete(InvoiceLine).where(*_where_key(InvoiceLine, key_of(invoice))))
    session.delete(invoice)


def record_close(
    session: Session, *, tenant_id: str, period: str, finalized: Iterable[dict[str, Any]], now: datetime
) -> None:
    """The period close's part, in its transaction: each finalised document is recorded as its invoice
    (draft -> finalized; an invoice finalised already stays as it is), and the open adjustments billed in
    this period are fixed (a later change to their month is a new adjustment on top)."""
    for document in finalized:
        key = (document["tenantId"], document["period"], document["currency"])
        invoice = session.get(Invoice, key, with_for_update=True)
        if invoice is None:  # finalised before any publish reached this database
            invoice = new_invoice(key, published_at=None)
            session.add(invoice)
        current = InvoiceStatus(invoice.status)
        if current == InvoiceStatus.finalized:
            continue
        INVOICE.assert_transition(current, InvoiceStatus.finalized)
        write_document(session, invoice, document)
        invoice.status = InvoiceStatus.finalized.value
        invoice.invoice_hash = document["invoiceHash"]
        invoice.finalized_at = datetime.fromisoformat(document["finalizedAt"])
        invoice.gate_verdict_hash = document.get("gateVerdictHash")
    session.execute(
        update(InvoiceAdjustment)
        .where(
            InvoiceAdjustment.tenant_id == tenant_id,
            InvoiceAdjustment.into_period == period,
            InvoiceAdjustment.finalized_at.is_(None),
        )
        .values(finalized_at=now)
    )


@dataclass
class InvoiceView:
    invoice: Invoice
    lines: list[InvoiceLine] = field(default_factory=list)
    adjustments: list[InvoiceAdjustment] = field(default_factory=list)  # billed in this month
    later_adjustments: list[InvoiceAdjustment] = field(default_factory=list)  # of this (finalised) month


def _views(session: Session, invoices: Sequence[Invoice]) -> list[InvoiceView]:
    """Each invoice with its lines and the adjustments billed in its month or made to it."""
    if not invoices:
        return []
    views = {key_of(invoice): InvoiceView(invoice) for invoice in invoices}
    tenant_id = invoices[0].tenant_id
    periods = sorted({invoice.period for invoice in invoices})
    lines = session.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.tenant_id == tenant_id, InvoiceLine.period.in_(periods))
        .order_by(InvoiceLine.line_code)
    )
    for line in lines:
        if key_of(line) in views:
            views[key_of(line)].lines.append(line)
    adjustments = session.scalars(
        select(InvoiceAdjustment)
        .where(
            InvoiceAdjustment.tenant_id == tenant_id,
            or_(InvoiceAdjustment.into_period.in_(periods), InvoiceAdjustment.adjusts_period.in_(periods)),
        )
        .order_by(InvoiceAdjustment.adjusts_period, InvoiceAdjustment.into_period)
    )
    for adjustment in adjustments:
        into = views.get((tenant_id, adjustment.into_period, adjustment.currency))
        if into is not None:
            into.adjustments.append(adjustment)
        made_to = views.get((tenant_id, adjustment.adjusts_period, adjustment.currency))
        if made_to is not None:
            made_to.later_adjustments.append(adjustment)
    return list(views.values())


def list_invoices(
    session: Session, *, tenant_id: str, query: InvoiceQuery
) -> tuple[int, list[InvoiceView], str | None]:
    """(count after the filters, one page of invoices with their lines, the next page's cursor)."""
    conditions = [Invoice.tenant_id == tenant_id]
    if query.period is not None:
        conditions.append(Invoice.period == query.period)
    if query.currency is not None:
        conditions.append(Invoice.currency == query.currency)
    if query.status is not None:
        conditions.append(Invoice.status == query.status.value)
    count = session.scalar(select(func.count()).select_from(Invoice).where(*conditions)) or 0
    rows, next_cursor = paginate(
        session, select(Invoice).where(*conditions), order=INVOICE_ORDER, query=query
    )
    return count, _views(session, [invoice for (invoice,) in rows]), next_cursor


def get_invoice(session: Session, *, tenant_id: str, period: str, currency: str) -> InvoiceView:
    """One invoice of the key's tenant; another tenant's, or none, is 404 INVOICE_NOT_FOUND."""
    invoice = session.get(Invoice, (tenant_id, period, currency))
    if invoice is None:
        raise InvoiceNotFound(f"No invoice for {period} in {currency} for this tenant.")
    return _views(session, [invoice])[0]
