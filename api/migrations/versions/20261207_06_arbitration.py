"""Disputes and arbitration (issue 18): published settlements, disputes, arbitration cases and their
append-only revisions, the settlement adjustments verdicts write, and the SLA watchdog's alerts.

The status values are written out here, not imported (see 20261206_01_state_checks): a new status is a
new revision.

Revision ID: 20261207_06_arbitration
Revises: 20261207_05_stripe_semantics
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_06_arbitration"
down_revision = "20261207_05_stripe_semantics"
branch_labels = None
depends_on = None

# (table, column, allowed values, whether null is allowed), as in 20261206_01_state_checks.
CHECKS = (
    ("arbitration_settlements", "status", ("locked", "refunded", "released"), False),
    ("disputes", "escalation_level", ("l1_counterparty", "l2_arbiter", "l3_external"), False),
    ("disputes", "outcome", ("accepted", "partial", "rejected"), True),
    ("disputes", "priority", ("critical", "high", "low", "normal"), False),
    ("disputes", "status", ("closed", "open"), False),
    ("arbitration_cases", "priority", ("critical", "high", "low", "normal"), False),
    ("arbitration_cases", "status", ("closed", "open", "under_review", "verdict_issued"), False),
    ("arbitration_cases", "verdict_outcome", ("accepted", "partial", "rejected"), True),
    ("arbitration_case_revisions", "status", ("closed", "open", "under_review", "verdict_issued"), False),
    ("settlement_adjustments", "outcome", ("accepted", "partial", "rejected"), False),
)
TABLES = (
    "arbitration_alerts", "settlement_adjustments", "arbitration_case_revisions", "arbitration_cases",
    "disputes", "arbitration_settlements",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "arbitration_settlements",
        sa.Column("tenant_id", sa.String(64), nullable=False, primary_key=True),
        sa.Column("settlement_id", sa.String(128), nullable=False, primary_key=True),
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("payer_agent_id", sa.String(128), nullable=False),
        sa.Column("payee_agent_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("policy_id", sa.String(128), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("policy_hash", sa.String(128), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("released_amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("refunded_amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("dispute_window_ends_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=False), nullable=False),
        sa.CheckConstraint(
            "status IN ('locked', 'refunded', 'released')", name="ck_arbitration_settlements_status"
        ),
    )
    op.create_table(
        "disputes",
        sa.Column("tenant_id", sa.String(64), nullable=False, primary_key=True),
        sa.Column("dispute_id", sa.String(128), nullable=False, primary_key=True),
        sa.Column("settlement_id", sa.String(128), nullable=False),
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("escalation_level", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("opened_by_agent_id", sa.String(128), nullable=True),
        sa.Column("evidence_refs", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("release_rate_pct", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("closed_by_agent_id", sa.String(128), nullable=True),
        sa.Column("verdict_id", sa.String(128), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=False), nullable=False),
        sa.CheckConstraint(
            "escalation_level IN ('l1_counterparty', 'l2_arbiter', 'l3_external')",
            name="ck_disputes_escalation_level",
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('accepted', 'partial', 'rejected')", name="ck_disputes_outcome"
        ),
        sa.CheckConstraint("priority IN ('critical', 'high', 'low', 'normal')", name="ck_disputes_priority"),
        sa.CheckConstraint("status IN ('closed', 'open')", name="ck_disputes_status"),
    )
    op.create_index("ix_disputes_settlement", "disputes", ["tenant_id", "settlement_id", "status"])
    op.create_table(
        "arbitration_cases",
        sa.Column("tenant_id", sa.String(64), nullable=False, primary_key=True),
        sa.Column("case_id", sa.String(128), nullable=False, primary_key=True),
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("settlement_id", sa.String(128), nullable=False),
        sa.Column("dispute_id", sa.String(128), nullable=False),
        sa.Column("claimant_agent_id", sa.String(128), nullable=True),
        sa.Column("respondent_agent_id", sa.String(128), nullable=True),
        sa.Column("arbiter_agent_id", sa.String(128), nullable=True),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("evidence_refs", sa.Text(), nullable=False),
        sa.Column("appeal_parent_case_id", sa.String(128), nullable=True),
        sa.Column("appeal_parent_verdict_id", sa.String(128), nullable=True),
        sa.Column("appeal_reason", sa.Text(), nullable=True),
        sa.Column("assignment_hash", sa.String(64), nullable=True),
        sa.Column("panel_candidate_agent_ids", sa.Text(), nullable=True),
        sa.Column("verdict_id", sa.String(128), nullable=True),
        sa.Column("verdict_hash", sa.String(64), nullable=True),
        sa.Column("verdict_outcome", sa.String(16), nullable=True),
        sa.Column("verdict_release_rate_pct", sa.Integer(), nullable=True),
        sa.Column("verdict_rationale", sa.Text(), nullable=True),
        sa.Column("verdict_evidence_refs", sa.Text(), nullable=True),
        sa.Column("verdict_issued_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=False), nullable=False),
        sa.CheckConstraint(
            "priority IN ('critical', 'high', 'low', 'normal')", name="ck_arbitration_cases_priority"
        ),
        sa.CheckConstraint(
            "status IN ('closed', 'open', 'under_review', 'verdict_issued')",
            name="ck_arbitration_cases_status",
        ),
        sa.CheckConstraint(
            "verdict_outcome IS NULL OR verdict_outcome IN ('accepted', 'partial', 'rejected')",
            name="ck_arbitration_cases_verdict_outcome",
        ),
    )
    op.create_index(
        "ix_arbitration_cases_dispute", "arbitration_cases", ["tenant_id", "dispute_id", "opened_at"]
    )
    op.create_table(
        "arbitration_case_revisions",
        sa.Column("seq", sa.Integer(), nullable=False, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(128), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("settlement_id", sa.String(128), nullable=False),
        sa.Column("dispute_id", sa.String(128), nullable=False),
        sa.Column("arbiter_agent_id", sa.String(128), nullable=True),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("evidence_count", sa.Integer(), nullable=False),
        sa.Column("appeal_parent_case_id", sa.String(128), nullable=True),
        sa.Column("verdict_outcome", sa.String(16), nullable=True),
        sa.Column("verdict_release_rate_pct", sa.Integer(), nullable=True),
        sa.Column("verdict_issued_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("case_hash", sa.String(64), nullable=False),
        sa.Column("actor_key_id", sa.String(32), nullable=True),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("at", sa.DateTime(timezone=False), nullable=False),
        sa.CheckConstraint(
            "status IN ('closed', 'open', 'under_review', 'verdict_issued')",
            name="ck_arbitration_case_revisions_status",
        ),
        sa.UniqueConstraint(
            "tenant_id", "case_id", "revision", name="uq_arbitration_case_revisions_revision"
        ),
    )
    op.create_index(
        "ix_arbitration_case_revisions_case", "arbitration_case_revisions", ["tenant_id", "case_id", "seq"]
    )
    op.create_table(
        "settlement_adjustments",
        sa.Column("tenant_id", sa.String(64), nullable=False, primary_key=True),
        sa.Column("adjustment_id", sa.String(128), nullable=False, primary_key=True),
        sa.Column("settlement_id", sa.String(128), nullable=False),
        sa.Column("adjustment_seq", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("dispute_id", sa.String(128), nullable=False),
        sa.Column("case_id", sa.String(128), nullable=True),
        sa.Column("verdict_id", sa.String(128), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("release_rate_pct", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("released_amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("refunded_amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('accepted', 'partial', 'rejected')", name="ck_settlement_adjustments_outcome"
        ),
        sa.UniqueConstraint(
            "tenant_id", "settlement_id", "adjustment_seq", name="uq_settlement_adjustments_seq"
        ),
    )
    op.create_table(
        "arbitration_alerts",
        sa.Column("alert_id", sa.String(64), nullable=False, primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("alert_type", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(128), nullable=False),
        sa.Column("bucket_start_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("sink", sa.String(16), nullable=False),
        sa.Column("delivery_status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=False), nullable=True),
        sa.UniqueConstraint(
            "tenant_id", "alert_type", "case_id", "bucket_start_at", name="uq_arbitration_alerts_bucket"
        ),
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
