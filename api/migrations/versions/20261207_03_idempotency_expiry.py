"""Idempotency keys expire: an index on `idempotency_records.created_at` for the purge of expired records
(`settld api purge`, the daily Dagster schedule).

Revision ID: 20261207_03_idempotency_expiry
Revises: 20261206_03_found_after_close
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "20261207_03_idempotency_expiry"
down_revision = "20261206_03_found_after_close"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_idempotency_records_created_at", "idempotency_records", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_records_created_at", table_name="idempotency_records")
