"""The incremental Stripe pull's cursor, per Stripe account.

Revision ID: 0004_stripe_pull_cursor
Revises: 0003_stripe_webhooks
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_stripe_pull_cursor"
down_revision = "0003_stripe_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stripe_pull_cursors",
        sa.Column("account", sa.String(255), primary_key=True),
        sa.Column("created_cursor", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=False), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stripe_pull_cursors")
