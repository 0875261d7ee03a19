"""Query and response bodies of the invoice routes (snake_case JSON). Amounts are integers of minor units;
each has a display string in major units beside it (settld/money.py: exact, from the integer, never a float)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from api.core.pagination import Page, PageQuery
from api.invoices.states import InvoiceStatus

PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
Period = Annotated[str, Field(pattern=PERIOD_PATTERN, examples=["2026-10"])]
Currency = Annotated[str, Field(pattern=CURRENCY_PATTERN, examples=["USD"])]


class InvoiceQuery(PageQuery):
    period: Period | None = Field(default=None, description="The invoices of this month, YYYY-MM.")
    currency: Currency | None = Field(default=None, description="Upper-case ISO 4217 code.")
    status: InvoiceStatus | None = Field(default=None, description="draft or finalized.")


class InvoiceLineOut(BaseModel):
    line_type: str = Field(
        description="SUBSCRIPTION_BASE, VERIFIED_RUN_OVERAGE, SETTLED_VOLUME_FEE or ARBITRATION_USAGE_FEE."
    )
    description: str
    quantity: int = Field(description="Runs or cases; for SETTLED_VOLUME_FEE the volume in minor units.")
    unit_amount_cents: int | None = Field(description="Price per unit (subscription, arbitration case).")
    unit_amount_milli_cents: int | None = Field(description="Price per overage run, in 1/1000 minor units.")
    unit_amount_bps: int | None = Field(description="Fee on settled volume, in basis points.")
    amount_cents: int
    amount: str = Field(examples=["99.00 USD"])
    source_event_count: int
    source_event_digest: str


class LineDeltaOut(BaseModel):
    line_type: str
    finalized_amount_cents: int = Field(
        description="Billed so far: the finalised line and earlier adjustments."
    )
    current_amount_cents: int = Field(description="What the published usage gives now.")
    delta_cents: int


class AdjustmentOut(BaseModel):
    adjusts_period: str = Field(description="The finalised month whose usage changed.")
    into_period: str = Field(description="The month it is billed in: the next open month.")
    currency: str
    total_delta_cents: int
    total_delta: str
    line_deltas: list[LineDeltaOut]
    finalized_invoice_hash: str | None
    current_draft_hash: str
    adjustment_hash: str = Field(description="sha256 of the BillingInvoiceAdjustment.v1 document.")
    published_at: datetime
    finalized_at: datetime | None = Field(
        description="When the close of into_period fixed it; null while open."
    )


class InvoiceOut(BaseModel):
    tenant_id: str
    period: str
    currency: str
    status: InvoiceStatus = Field(description="draft (as last published) or finalized (by the period close).")
    plan: str | None
    plan_source: str | None = Field(description="stripe, configured or default.")
    subtotal_cents: int = Field(description="Sum of the lines, in minor units of currency.")
    subtotal: str = Field(examples=["19,127.00 EUR"])
    event_count: int | None
    events_digest: str | None
    draft_hash: str | None = Field(
        description="draftHash of the draft file (the finalised one's, once final)."
    )
    invoice_hash: str | None = Field(description="invoiceHash of the finalised invoice file.")
    finalized_at: datetime | None = Field(description="The period close that finalised it.")
    gate_verdict_hash: str | None = Field(description="The gate verdict that close trusted.")
    first_published_at: datetime | None
    published_at: datetime | None = Field(description="The publish that last wrote the draft.")
    lines: list[InvoiceLineOut]
    adjustments: list[AdjustmentOut] = Field(
        description="Changes to earlier finalised months billed in this one."
    )
    later_adjustments: list[AdjustmentOut] = Field(
        description="Changes to this finalised month since it was finalised, billed in a later month."
    )


class InvoicePage(Page[InvoiceOut]):
    pass
