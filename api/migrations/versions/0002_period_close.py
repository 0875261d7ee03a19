"""Period gate verdicts and period closes.

Revision ID: 0002_period_close
Revises: 0001_initial
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_period_close"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=False), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "period_gate_verdicts",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("verdict_hash", sa.String(64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("failing_check_ids", sa.Text(), nullable=False),
        sa.Column("verdict", sa.Text(), nullable=False),
        ts("recorded_at"),
    )
    op.create_table(
        "period_closes",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("verdict_hash", sa.String(64), nullable=False),
        sa.Column("bundle_file", sa.String(512), nullable=False),
        sa.Column("bundle_sha256", sa.String(64), nullable=False),
        ts("closed_at"),
        sa.Column("closed_by_key_id", sa.String(32), nullable=True),
        ts("reopened_at", nullable=True),
        sa.Column("reopened_by_key_id", sa.String(32), nullable=True),
        sa.Column("reopen_reason", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("period_closes")
    op.drop_table("period_gate_verdicts")
