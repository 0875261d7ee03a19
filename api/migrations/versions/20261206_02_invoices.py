"""Invoices per tenant, period and currency (published drafts, finalised by the period close), their
lines, and the adjustments later usage makes to a finalised month.

The status values are written out here, not imported (see 20261206_01_state_checks): a new status is a
new revision.

Revision ID: 20261206_02_invoices
Revises: 20261206_01_state_checks
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261206_02_invoices"
down_revision = "20261206_01_state_checks"
branch_labels = None
depends_on = None

# (table, column, allowed values, whether null is allowed), as in 20261206_01_state_checks.
CHECKS = (("invoices", "status", ("draft", "finalized"), False),)
INVOICE_KEY = ("tenant_id", "period", "currency")


def ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=False), nullable=nullable)


def key_columns() -> list[sa.Column]:
    return [
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
    ]


def upgrade() -> None:
    op.create_table(
        "invoices",
        *key_columns(),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("plan", sa.String(64), nullable=True),
        sa.Column("plan_source", sa.String(32), nullable=True),
        sa.Column("event_count", sa.BigInteger(), nullable=True),
        sa.Column("events_digest", sa.String(64), nullable=True),
        sa.Column("subtotal_cents", sa.BigInteger(), nullable=False),
        sa.Column("draft_hash", sa.String(64), nullable=True),
        sa.Column("invoice_hash", sa.String(64), nullable=True),
        ts("finalized_at", nullable=True),
        sa.Column("gate_verdict_hash", sa.String(64), nullable=True),
        ts("first_published_at", nullable=True),
        ts("published_at", nullable=True),
        sa.CheckConstraint("status IN ('draft', 'finalized')", name="ck_invoices_status"),
    )
    op.create_table(
        "invoice_lines",
        *key_columns(),
        sa.Column("line_code", sa.String(64), primary_key=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("unit_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("unit_amount_milli_cents", sa.BigInteger(), nullable=True),
        sa.Column("unit_amount_bps", sa.Integer(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("source_event_count", sa.BigInteger(), nullable=False),
        sa.Column("source_event_digest", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            list(INVOICE_KEY),
            [f"invoices.{column}" for column in INVOICE_KEY],
            name="fk_invoice_lines_invoice",
        ),
    )
    op.create_table(
        "invoice_adjustments",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("adjusts_period", sa.String(7), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("into_period", sa.String(7), primary_key=True),
        sa.Column("finalized_invoice_hash", sa.String(64), nullable=True),
        sa.Column("current_draft_hash", sa.String(64), nullable=False),
        sa.Column("current_events_digest", sa.String(64), nullable=False),
        sa.Column("line_deltas", sa.Text(), nullable=False),
        sa.Column("total_delta_cents", sa.BigInteger(), nullable=False),
        sa.Column("adjustment_hash", sa.String(64), nullable=False),
        ts("published_at"),
        ts("finalized_at", nullable=True),
    )
    op.create_index(
        "ix_invoice_adjustments_into", "invoice_adjustments", ["tenant_id", "into_period", "currency"]
    )


def downgrade() -> None:
    op.drop_index("ix_invoice_adjustments_into", table_name="invoice_adjustments")
    op.drop_table("invoice_adjustments")
    op.drop_table("invoice_lines")
    op.drop_table("invoices")
