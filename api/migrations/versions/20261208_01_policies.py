"""Settlement policies (issue 19): immutable policy versions, each tenant's rollout state and its history,
and the policy assignment recorded with each run.

The CHECK values are written out here, not imported (see 20261206_01_state_checks): a new value is a new
revision.

Revision ID: 20261208_01_policies
Revises: 20261207_06_arbitration
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261208_01_policies"
down_revision = "20261207_06_arbitration"
branch_labels = None
depends_on = None

ACTIONS = (
    "active_confirmed", "active_initialized", "active_promoted", "active_rollback", "canary_cleared",
    "canary_updated", "draft_cleared", "draft_selected", "rollback_noop",
)  # fmt: skip
# (table, column, allowed values, whether null is allowed), as in 20261206_01_state_checks.
CHECKS = (
    ("settlement_policy_rollout_history", "action", ACTIONS, False),
    ("settlement_policy_rollout_history", "stage", ("active", "canary", "draft"), False),
    ("settlement_policy_assignments", "stage", ("active", "canary"), False),
)
TABLES = (
    "settlement_policy_assignments", "settlement_policy_rollout_history", "settlement_policy_rollouts",
    "settlement_policy_versions",
)  # fmt: skip


def _checks(table: str) -> list[sa.CheckConstraint]:
    return [
        sa.CheckConstraint(
            f"{column} IN ({', '.join(repr(value) for value in values)})", name=f"ck_{table}_{column}"
        )
        for name, column, values, _nullable in CHECKS
        if name == table
    ]


def upgrade() -> None:
    op.create_table(
        "settlement_policy_versions",
        sa.Column("tenant_id", sa.String(64), nullable=False, primary_key=True),
        sa.Column("policy_id", sa.String(128), nullable=False, primary_key=True),
        sa.Column("policy_version", sa.Integer(), nullable=False, primary_key=True),
        sa.Column("policy_hash", sa.String(64), nullable=False),
        sa.Column("verification_method_hash", sa.String(64), nullable=False),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("policy_json", sa.Text(), nullable=False),
        sa.Column("verification_method_json", sa.Text(), nullable=False),
        sa.Column("metadata_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("created_by_key_id", sa.String(32), nullable=True),
    )
    op.create_table(
        "settlement_policy_rollouts",
        sa.Column("tenant_id", sa.String(64), nullable=False, primary_key=True),
        sa.Column("draft_policy_id", sa.String(128), nullable=True),
        sa.Column("draft_policy_version", sa.Integer(), nullable=True),
        sa.Column("canary_policy_id", sa.String(128), nullable=True),
        sa.Column("canary_policy_version", sa.Integer(), nullable=True),
        sa.Column("canary_rollout_percent", sa.Integer(), nullable=False),
        sa.Column("active_policy_id", sa.String(128), nullable=True),
        sa.Column("active_policy_version", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=False), nullable=False),
    )
    op.create_table(
        "settlement_policy_rollout_history",
        sa.Column("seq", sa.Integer(), nullable=False, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("rollout_revision", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("from_policy_id", sa.String(128), nullable=True),
        sa.Column("from_policy_version", sa.Integer(), nullable=True),
        sa.Column("to_policy_id", sa.String(128), nullable=True),
        sa.Column("to_policy_version", sa.Integer(), nullable=True),
        sa.Column("rollout_percent", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("actor_key_id", sa.String(32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=False), nullable=False),
        *_checks("settlement_policy_rollout_history"),
    )
    op.create_index(
        "ix_settlement_policy_rollout_history_tenant",
        "settlement_policy_rollout_history",
        ["tenant_id", "seq"],
    )
    op.create_table(
        "settlement_policy_assignments",
        sa.Column("tenant_id", sa.String(64), nullable=False, primary_key=True),
        sa.Column("run_id", sa.String(128), nullable=False, primary_key=True),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("policy_id", sa.String(128), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("policy_hash", sa.String(64), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("rollout_percent", sa.Integer(), nullable=False),
        sa.Column("rollout_revision", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=False), nullable=False),
        *_checks("settlement_policy_assignments"),
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
