"""Stripe objects finance reads (subscriptions, invoices, charges, balance transactions, payouts), in their
latest known state (from events and from listings).

Revision ID: 0005_stripe_objects
Revises: 0004_stripe_pull_cursor
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_stripe_objects"
down_revision = "0004_stripe_pull_cursor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stripe_objects",
        sa.Column("object_type", sa.String(64), primary_key=True),
        sa.Column("object_id", sa.String(255), primary_key=True),
        sa.Column("account", sa.String(255), nullable=False),
        sa.Column("state_at", sa.BigInteger(), nullable=False),
        sa.Column("state_source", sa.String(255), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=True),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=True),
        sa.Column("customer_id", sa.String(255), nullable=True),
        sa.Column("status", sa.String(64), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("period_start", sa.BigInteger(), nullable=True),
        sa.Column("period_end", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.Column("first_stored_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=False), nullable=False),
    )
    op.create_index("ix_stripe_objects_tenant", "stripe_objects", ["tenant_id", "object_type"])


def downgrade() -> None:
    op.drop_index("ix_stripe_objects_tenant", table_name="stripe_objects")
    op.drop_table("stripe_objects")
