"""Stripe semantics (issue 28): events parked without a tenant, dead letters as states, the event's API
version, an invoice's service period, and payment failure reasons.

- `stripe_events.tenant_id` may be null, with `attribution` (tenant | platform | unattributed): account-level
  objects belong to the platform, an event whose tenant is not known yet is parked, not refused;
  `api_version` is the event's.
- `stripe_webhook_deliveries`: a replay updates the dead letter it re-judged (`replay_attempts`,
  `last_error`, `last_replayed_at`, `resolved_at`, `resolution`) instead of recording a copy.
- `stripe_objects`: an invoice's service period (`service_start`, `service_end`), what an object actually
  received (`amount_received_cents`), and a payment's failure facts.

Revision ID: 20261207_05_stripe_semantics
Revises: 20261206_03_found_after_close
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_05_stripe_semantics"
down_revision = "20261206_03_found_after_close"
branch_labels = None
depends_on = None

OBJECT_COLUMNS = (
    ("service_start", sa.BigInteger()),
    ("service_end", sa.BigInteger()),
    ("amount_received_cents", sa.BigInteger()),
    ("failure_code", sa.String(64)),
    ("decline_code", sa.String(64)),
    ("outcome_type", sa.String(64)),
    ("outcome_reason", sa.String(64)),
    ("network_status", sa.String(64)),
    ("attempt_count", sa.Integer()),
    ("related_id", sa.String(255)),
)


def upgrade() -> None:
    with op.batch_alter_table("stripe_events") as batch:
        batch.alter_column("tenant_id", existing_type=sa.String(64), nullable=True)
        batch.add_column(sa.Column("attribution", sa.String(16), nullable=False, server_default="tenant"))
        batch.add_column(sa.Column("api_version", sa.String(64), nullable=True))
        batch.create_index("ix_stripe_events_attribution", ["attribution", "customer_id"])
    with op.batch_alter_table("stripe_webhook_deliveries") as batch:
        batch.add_column(sa.Column("replay_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("last_replayed_at", sa.DateTime(timezone=False), nullable=True))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=False), nullable=True))
        batch.add_column(sa.Column("resolution", sa.String(16), nullable=True))
    with op.batch_alter_table("stripe_objects") as batch:
        for name, type_ in OBJECT_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stripe_objects") as batch:
        for name, _ in reversed(OBJECT_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("stripe_webhook_deliveries") as batch:
        for name in ("resolution", "resolved_at", "last_replayed_at", "last_error", "replay_attempts"):
            batch.drop_column(name)
    with op.batch_alter_table("stripe_events") as batch:
        batch.drop_index("ix_stripe_events_attribution")
        batch.drop_column("api_version")
        batch.drop_column("attribution")
        batch.alter_column("tenant_id", existing_type=sa.String(64), nullable=False)
