"""Self-serve onboarding: platform keys, key expiry and rotation, the tenant's contact, billing plan and
starter policy, the bootstrap record, onboarding events and the published onboarding cohorts.

Revision ID: 20261207_04_onboarding
Revises: 20261207_03_idempotency_expiry
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_04_onboarding"
down_revision = "20261207_03_idempotency_expiry"
branch_labels = None
depends_on = None

# (table, column, allowed values, whether null is allowed), as in 20261206_01_state_checks.
CHECKS = (("onboarding_events", "recorded_by", ("platform", "tenant"), False),)


def ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=False), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("contact_email", sa.String(320), nullable=True))
        batch.add_column(sa.Column("billing_plan", sa.String(64), nullable=True))
        batch.add_column(sa.Column("billing_hard_limit_enforced", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("policy_ref", sa.String(100), nullable=True))
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(ts("updated_at", nullable=True))
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("is_platform", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(ts("expires_at", nullable=True))
        batch.add_column(sa.Column("replaced_by_key_id", sa.String(32), nullable=True))
    op.create_table(
        "tenant_bootstraps",
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.tenant_id"), primary_key=True),
        sa.Column("request_json", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.Column("actor_key_id", sa.String(32), nullable=True),
        ts("bootstrapped_at"),
    )
    op.create_table(
        "onboarding_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.tenant_id"), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("recorded_by", sa.String(16), nullable=False),
        sa.Column("source", sa.String(64), nullable=True),
        sa.Column("metadata_json", sa.Text(), nullable=False),
        sa.Column("actor_key_id", sa.String(32), nullable=True),
        sa.Column("request_id", sa.String(128), nullable=True),
        ts("at"),
        ts("received_at"),
        sa.UniqueConstraint("tenant_id", "event_id", name="uq_onboarding_events_tenant_event"),
        sa.CheckConstraint("recorded_by IN ('platform', 'tenant')", name="ck_onboarding_events_recorded_by"),
    )
    op.create_index("ix_onboarding_events_tenant_id", "onboarding_events", ["tenant_id"])
    op.create_table(
        "onboarding_cohorts",
        sa.Column("cohort_grain", sa.String(8), primary_key=True),
        sa.Column("cohort", sa.String(10), primary_key=True),
        sa.Column("step", sa.String(64), primary_key=True),
        sa.Column("step_order", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in ("cohort_tenants", "reached_tenants")),
        *(
            sa.Column(name, sa.BigInteger(), nullable=True)
            for name in (
                "previous_reached_tenants",
                "conversion_bps",
                "drop_off_bps",
                "median_seconds_to_first_settlement",
                "p90_seconds_to_first_settlement",
            )
        ),  # fmt: skip
        sa.Column("is_shareable", sa.Boolean(), nullable=False),
        ts("published_at"),
    )


def downgrade() -> None:
    op.drop_table("onboarding_cohorts")
    op.drop_index("ix_onboarding_events_tenant_id", table_name="onboarding_events")
    op.drop_table("onboarding_events")
    op.drop_table("tenant_bootstraps")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("replaced_by_key_id")
        batch.drop_column("expires_at")
        batch.drop_column("is_platform")
    with op.batch_alter_table("tenants") as batch:
        for column in ("updated_at", "revision", "policy_ref", "billing_hard_limit_enforced",
                       "billing_plan", "contact_email"):  # fmt: skip
            batch.drop_column(column)
