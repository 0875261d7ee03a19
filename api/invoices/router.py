"""HTTP layer of the invoices (finance_read): what each tenant is invoiced, per period and currency."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.core.dependencies import SessionDep
from api.core.errors import problem_responses
from api.core.pagination import CursorInvalid
from api.invoices import service
from api.invoices.models import InvoiceAdjustment
from api.invoices.problems import InvoiceNotFound
from api.invoices.schemas import (
    CURRENCY_PATTERN,
    PERIOD_PATTERN,
    AdjustmentOut,
    InvoiceLineOut,
    InvoiceOut,
    InvoicePage,
    InvoiceQuery,
    LineDeltaOut,
)
from api.tenants.dependencies import FinanceReadDep
from api.tenants.problems import AUTH_PROBLEMS
from settld.money import major_units

router = APIRouter(prefix="/ops/finance/invoices", tags=["invoices"])


def _adjustment_out(adjustment: InvoiceAdjustment) -> AdjustmentOut:
    deltas = [
        LineDeltaOut(line_type=delta["code"], finalized_amount_cents=delta["finalizedAmountCents"],
                     current_amount_cents=delta["currentAmountCents"], delta_cents=delta["deltaCents"])
        for delta in json.loads(adjustment.line_deltas)
    ]  # fmt: skip
    return AdjustmentOut(
        adjusts_period=adjustment.adjusts_period,
        into_period=adjustment.into_period,
        currency=adjustment.currency,
        total_delta_cents=adjustment.total_delta_cents,
        total_delta=major_units(adjustment.total_delta_cents, adjustment.currency),
        line_deltas=deltas,
        finalized_invoice_hash=adjustment.finalized_invoice_hash,
        current_draft_hash=adjustment.current_draft_hash,
        adjustment_hash=adjustment.adjustment_hash,
        published_at=adjustment.published_at,
        finalized_at=adjustment.finalized_at,
    )


def _invoice_out(view: service.InvoiceView) -> InvoiceOut:
    invoice = view.invoice
    lines = [
        InvoiceLineOut(
            line_type=line.line_code,
            description=line.description,
            quantity=line.quantity,
            unit_amount_cents=line.unit_amount_cents,
            unit_amount_milli_cents=line.unit_amount_milli_cents,
            unit_amount_bps=line.unit_amount_bps,
            amount_cents=line.amount_cents,
            amount=major_units(line.amount_cents, line.currency),
            source_event_count=line.source_event_count,
            source_event_digest=line.source_event_digest,
        )
        for line in view.lines
    ]
    return InvoiceOut(
        tenant_id=invoice.tenant_id,
        period=invoice.period,
        currency=invoice.currency,
        status=invoice.status,
        plan=invoice.plan,
        plan_source=invoice.plan_source,
        subtotal_cents=invoice.subtotal_cents,
        subtotal=major_units(invoice.subtotal_cents, invoice.currency),
        event_count=invoice.event_count,
        events_digest=invoice.events_digest,
        draft_hash=invoice.draft_hash,
        invoice_hash=invoice.invoice_hash,
        finalized_at=invoice.finalized_at,
        gate_verdict_hash=invoice.gate_verdict_hash,
        first_published_at=invoice.first_published_at,
        published_at=invoice.published_at,
        lines=lines,
        adjustments=[_adjustment_out(adjustment) for adjustment in view.adjustments],
        later_adjustments=[_adjustment_out(adjustment) for adjustment in view.later_adjustments],
    )


@router.get("", response_model=InvoicePage, responses=problem_responses(*AUTH_PROBLEMS, CursorInvalid))
def get_invoices(
    session: SessionDep, principal: FinanceReadDep, query: Annotated[InvoiceQuery, Query()]
) -> InvoicePage:
    """The key's tenant's invoices, one per period and currency, with their lines: drafts as the pipeline
    last published them, finalised ones as the period close finalised them. Newest period first."""
    count, views, next_cursor = service.list_invoices(session, tenant_id=principal.tenant_id, query=query)
    return InvoicePage(count=count, limit=query.limit, offset=query.offset, next_cursor=next_cursor,
                       items=[_invoice_out(view) for view in views])  # fmt: skip


@router.get(
    "/{period}/{currency}",
    response_model=InvoiceOut,
    responses=problem_responses(*AUTH_PROBLEMS, InvoiceNotFound),
)
def get_invoice(
    session: SessionDep,
    principal: FinanceReadDep,
    period: Annotated[str, Path(pattern=PERIOD_PATTERN, description="A UTC month, YYYY-MM.")],
    currency: Annotated[str, Path(pattern=CURRENCY_PATTERN, description="Upper-case ISO 4217 code.")],
) -> InvoiceOut:
    """One invoice of the key's tenant with its lines and adjustments (another tenant's is a 404)."""
    view = service.get_invoice(session, tenant_id=principal.tenant_id, period=period, currency=currency)
    return _invoice_out(view)
