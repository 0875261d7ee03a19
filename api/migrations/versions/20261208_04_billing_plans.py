"""Billing plans in the API (issue 24): the tenant's plan overrides, its provider subscription, the usage
figures the warehouse last published and the billable work the API witnessed since (hard limits).

Revision ID: 20261208_04_billing_plans
Revises: 20261208_02_marketplace
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261208_04_billing_plans"
down_revision = "20261208_02_marketplace"
branch_labels = None
depends_on = None

# (table, column, allowed values, whether null is allowed), as in 20261206_01_state_checks.
CHECKS = (
    (
        "billing_usage_witnessed",
        "usage_type",
        ("arbitration_cases", "settled_volume", "verified_runs"),
        False,
    ),
)


def ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=False), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("billing_plan_overrides", sa.Text(), nullable=True))
    op.create_table(
        "billing_subscriptions",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=True),
        sa.Column("subscription_id", sa.String(255), nullable=True),
        sa.Column("price_id", sa.String(255), nullable=True),
        sa.Column("status", sa.String(64), nullable=True),
        sa.Column("plan", sa.String(64), nullable=True),
        ts("current_period_start", nullable=True),
        ts("current_period_end", nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("last_event_id", sa.String(255), nullable=True),
        sa.Column("last_event_created", sa.BigInteger(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        ts("updated_at"),
    )
    op.create_table(
        "billing_usage_published",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("usage_type", sa.String(32), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("plan", sa.String(64), nullable=False),
        sa.Column("plan_terms", sa.Text(), nullable=False),
        ts("as_of"),
        ts("published_at"),
    )
    (_, column, values, _) = CHECKS[0]
    listed = ", ".join(f"'{value}'" for value in values)
    op.create_table(
        "billing_usage_witnessed",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("usage_type", sa.String(32), primary_key=True),
        sa.Column("source_ref", sa.String(255), primary_key=True),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        ts("witnessed_at"),
        sa.CheckConstraint(f"{column} IN ({listed})", name="ck_billing_usage_witnessed_usage_type"),
    )
    op.create_index("ix_billing_usage_witnessed_period", "billing_usage_witnessed",
                    ["tenant_id", "period", "usage_type"])  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_billing_usage_witnessed_period", table_name="billing_usage_witnessed")
    op.drop_table("billing_usage_witnessed")
    op.drop_table("billing_usage_published")
    op.drop_table("billing_subscriptions")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("billing_plan_overrides")
