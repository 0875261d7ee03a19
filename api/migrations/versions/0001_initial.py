"""Tenants, API keys, idempotency records, audit log, reconciliation mismatches and triage.

Revision ID: 0001_initial
Revises:
Create Date: 2026-10-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY_SQLITE = """
CREATE TRIGGER audit_log_no_{verb} BEFORE {verb_upper} ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
"""
APPEND_ONLY_POSTGRES = (
    """
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$
    """,
    """
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
    """,
)


def ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=False), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=True),
        ts("created_at"),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.tenant_id"), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        ts("created_at"),
        ts("revoked_at", nullable=True),
    )
    op.create_index("ix_api_keys_tenant_id", "api_keys", ["tenant_id"])
    op.create_table(
        "idempotency_records",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        ts("created_at"),
        sa.UniqueConstraint("tenant_id", "key_id", "idempotency_key", name="uq_idempotency_records_scope"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("actor_key_id", sa.String(32), nullable=True),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target_type", sa.String(100), nullable=False),
        sa.Column("target_id", sa.String(200), nullable=False),
        sa.Column("details_hash", sa.String(64), nullable=False),
        sa.Column("details_json", sa.Text(), nullable=False),
        ts("at"),
    )
    op.create_index("ix_audit_log_tenant_id_id", "audit_log", ["tenant_id", "id"])
    op.create_index("ix_audit_log_tenant_target", "audit_log", ["tenant_id", "target_type", "target_id"])
    op.create_table(
        "reconciliation_mismatches",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("triage_key", sa.String(128), primary_key=True),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("provider_id", sa.String(128), nullable=False),
        sa.Column("mismatch_type", sa.String(64), nullable=False),
        sa.Column("mismatch_key", sa.String(256), nullable=False),
        sa.Column("source_type", sa.String(64), nullable=False),
        sa.Column("mismatch_code", sa.String(128), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("severity_rank", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.String(256), nullable=True),
        sa.Column("operation_id", sa.String(256), nullable=True),
        sa.Column("operation_state", sa.String(32), nullable=True),
        sa.Column("operation_count", sa.BigInteger(), nullable=False),
        sa.Column("expected_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("actual_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("amount_delta_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("actual_currency", sa.String(3), nullable=True),
        ts("first_seen_at"),
        ts("last_seen_at"),
        ts("cleared_at", nullable=True),
        ts("published_at"),
    )
    op.create_index(
        "ix_reconciliation_mismatches_queue",
        "reconciliation_mismatches",
        ["tenant_id", "cleared_at", "severity_rank", "first_seen_at"],
    )
    op.create_index(
        "ix_reconciliation_mismatches_period",
        "reconciliation_mismatches",
        ["tenant_id", "period", "provider_id"],
    )
    op.create_table(
        "reconciliation_triage",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("triage_key", sa.String(128), primary_key=True),
        sa.Column("source_type", sa.String(64), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("provider_id", sa.String(128), nullable=False),
        sa.Column("mismatch_type", sa.String(64), nullable=False),
        sa.Column("mismatch_key", sa.String(256), nullable=False),
        sa.Column("mismatch_code", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("severity", sa.String(16), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by_key_id", sa.String(32), nullable=True),
        sa.Column("updated_by_key_id", sa.String(32), nullable=True),
        sa.Column("resolved_by_key_id", sa.String(32), nullable=True),
        ts("created_at"),
        ts("updated_at"),
        ts("opened_at"),
        ts("triaged_at", nullable=True),
        ts("acknowledged_at", nullable=True),
        ts("in_progress_at", nullable=True),
        ts("resolved_at", nullable=True),
        ts("closed_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "triage_key"],
            ["reconciliation_mismatches.tenant_id", "reconciliation_mismatches.triage_key"],
            name="fk_reconciliation_triage_mismatch",
        ),
    )
    op.create_index(
        "ix_reconciliation_triage_updated", "reconciliation_triage", ["tenant_id", "updated_at", "triage_key"]
    )
    op.create_table(
        "reconciliation_triage_actions",
        sa.Column("action_id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("triage_key", sa.String(128), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("prev_status", sa.String(16), nullable=True),
        sa.Column("next_status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("actor_key_id", sa.String(32), nullable=True),
        sa.Column("request_id", sa.String(128), nullable=True),
        ts("at"),
        sa.UniqueConstraint(
            "tenant_id", "triage_key", "revision", name="uq_reconciliation_triage_actions_revision"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "triage_key"],
            ["reconciliation_triage.tenant_id", "reconciliation_triage.triage_key"],
            name="fk_reconciliation_triage_actions_triage",
        ),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("update", "delete"):
            op.execute(APPEND_ONLY_SQLITE.format(verb=verb, verb_upper=verb.upper()))
    elif dialect == "postgresql":
        for statement in APPEND_ONLY_POSTGRES:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    for table in (
        "reconciliation_triage_actions",
        "reconciliation_triage",
        "reconciliation_mismatches",
        "audit_log",
        "idempotency_records",
        "api_keys",
        "tenants",
    ):
        op.drop_table(table)
