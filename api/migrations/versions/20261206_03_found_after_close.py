"""Closed months stay honest: a mismatch published while its period is closed is marked
`found_after_close_at` (set once, never cleared by a later publish).

Revision ID: 20261206_03_found_after_close
Revises: 20261206_02_invoices
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261206_03_found_after_close"
down_revision = "20261206_02_invoices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reconciliation_mismatches") as batch:
        batch.add_column(sa.Column("found_after_close_at", sa.DateTime(timezone=False), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reconciliation_mismatches") as batch:
        batch.drop_column("found_after_close_at")
