"""Stripe webhook deliveries, accepted Stripe events and the customer-to-tenant mapping.

Revision ID: 0003_stripe_webhooks
Revises: 0002_period_close
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_stripe_webhooks"
down_revision = "0002_period_close"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=False), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "stripe_webhook_deliveries",
        sa.Column("delivery_id", BIG_ID, primary_key=True, autoincrement=True),
        ts("received_at"),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("event_type", sa.String(255), nullable=True),
        sa.Column("event_created", sa.BigInteger(), nullable=True),
        sa.Column("tenant_id", sa.String(64), nullable=True),
        sa.Column("signature_header", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("replayable", sa.Boolean(), nullable=False),
        sa.Column("replayed_delivery_id", BIG_ID, nullable=True),
    )
    op.create_index("ix_stripe_webhook_deliveries_received", "stripe_webhook_deliveries", ["received_at"])
    op.create_index("ix_stripe_webhook_deliveries_event", "stripe_webhook_deliveries", ["event_id"])
    op.create_table(
        "stripe_events",
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("event_type", sa.String(255), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(64), nullable=True),
        sa.Column("object_id", sa.String(255), nullable=True),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("ignored", sa.Boolean(), nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=True),
        sa.Column("subscription_status", sa.String(64), nullable=True),
        sa.Column("plan", sa.String(64), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        ts("received_at"),
    )
    op.create_index("ix_stripe_events_created", "stripe_events", ["created", "event_id"])
    op.create_table(
        "stripe_customer_tenants",
        sa.Column("customer_id", sa.String(255), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        ts("created_at"),
    )


def downgrade() -> None:
    op.drop_table("stripe_customer_tenants")
    op.drop_index("ix_stripe_events_created", "stripe_events")
    op.drop_table("stripe_events")
    op.drop_index("ix_stripe_webhook_deliveries_event", "stripe_webhook_deliveries")
    op.drop_index("ix_stripe_webhook_deliveries_received", "stripe_webhook_deliveries")
    op.drop_table("stripe_webhook_deliveries")
