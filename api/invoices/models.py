"""Invoices per tenant, period and currency, their lines, and the adjustments later usage makes.

An `invoices` row is the BillingInvoiceDraft.v1 the pipeline last published (status draft) until the period
close finalises it (status finalized: from then on it holds the finalised invoice, and no publish writes it
again). Amounts are integers of minor units of the row's currency.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.core.database import Base, UTCDateTime
from api.core.states import check_constraint
from api.invoices.states import InvoiceStatus


class Invoice(Base):
    """One invoice: a published draft, or the finalised invoice of a closed period."""

    __tablename__ = "invoices"
    __table_args__ = (check_constraint("status", InvoiceStatus, table="invoices"),)

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # InvoiceStatus: draft | finalized
    plan: Mapped[str | None] = mapped_column(String(64))
    plan_source: Mapped[str | None] = mapped_column(String(32))
    event_count: Mapped[int | None] = mapped_column(BigInteger)
    events_digest: Mapped[str | None] = mapped_column(String(64))
    subtotal_cents: Mapped[int] = mapped_column(BigInteger)
    # sha256 of the draft document (reports/invoices.py build_draft): the draft file's `draftHash`.
    draft_hash: Mapped[str | None] = mapped_column(String(64))
    # Set by the period close: the finalised document's hash, when it was finalised, the verdict it trusted.
    invoice_hash: Mapped[str | None] = mapped_column(String(64))
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    gate_verdict_hash: Mapped[str | None] = mapped_column(String(64))
    # The publishes that first and last wrote the draft (null for an invoice the close recorded unpublished).
    first_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InvoiceLine(Base):
    """One line item (one per line code): only the unit field that applies to its code is set."""

    __tablename__ = "invoice_lines"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "period", "currency"],
            ["invoices.tenant_id", "invoices.period", "invoices.currency"],
            name="fk_invoice_lines_invoice",
        ),
    )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    line_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[int] = mapped_column(BigInteger)
    unit_amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    unit_amount_milli_cents: Mapped[int | None] = mapped_column(BigInteger)
    unit_amount_bps: Mapped[int | None] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    source_event_count: Mapped[int] = mapped_column(BigInteger)
    source_event_digest: Mapped[str] = mapped_column(String(64))


class InvoiceAdjustment(Base):
    """BillingInvoiceAdjustment.v1: usage of a finalised month (`adjusts_period`) that changed after its
    invoice was finalised, billed in `into_period`, the next open month. Open (finalized_at null) it follows
    each publish; the close of `into_period` fixes it, and a later change is a new adjustment on top."""

    __tablename__ = "invoice_adjustments"
    __table_args__ = (Index("ix_invoice_adjustments_into", "tenant_id", "into_period", "currency"),)

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    adjusts_period: Mapped[str] = mapped_column(String(7), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    into_period: Mapped[str] = mapped_column(String(7), primary_key=True)
    finalized_invoice_hash: Mapped[str | None] = mapped_column(String(64))
    current_draft_hash: Mapped[str] = mapped_column(String(64))
    current_events_digest: Mapped[str] = mapped_column(String(64))
    line_deltas: Mapped[str] = mapped_column(Text)  # canonical JSON: [{code, finalizedAmountCents, ...}]
    total_delta_cents: Mapped[int] = mapped_column(BigInteger)
    adjustment_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
