"""CHECK constraints keep every status column to its state machine's states (and severities to theirs).

The values are written out here, not imported: a revision describes the schema as it was made, and must
mean the same thing when the enums change later (a new state is a new revision).

Revision ID: 20261206_01_state_checks
Revises: 0005_stripe_objects
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "20261206_01_state_checks"
down_revision = "0005_stripe_objects"
branch_labels = None
depends_on = None

TRIAGE_STATUSES = ("acknowledged", "dismissed", "in_progress", "open", "resolved")
SEVERITIES = ("critical", "high", "low", "medium")
# (table, column, allowed values, whether null is allowed)
CHECKS = (
    ("reconciliation_mismatches", "severity", SEVERITIES, False),
    ("reconciliation_triage", "status", TRIAGE_STATUSES, False),
    ("reconciliation_triage", "severity", SEVERITIES, True),
    ("reconciliation_triage_actions", "prev_status", TRIAGE_STATUSES, True),
    ("reconciliation_triage_actions", "next_status", TRIAGE_STATUSES, False),
    ("period_closes", "status", ("closed", "open", "reopened"), False),
    ("stripe_webhook_deliveries", "status", ("accepted", "duplicate", "ignored", "rejected"), False),
)


def _condition(column: str, values: tuple[str, ...], nullable: bool) -> str:
    listed = ", ".join(f"'{value}'" for value in values)
    condition = f"{column} IN ({listed})"
    return f"{column} IS NULL OR {condition}" if nullable else condition


def _tables() -> dict[str, list[tuple[str, tuple[str, ...], bool]]]:
    tables: dict[str, list[tuple[str, tuple[str, ...], bool]]] = {}
    for table, column, values, nullable in CHECKS:
        tables.setdefault(table, []).append((column, values, nullable))
    return tables


def upgrade() -> None:
    # One batch per table: on SQLite each batch rebuilds its table once (copy, drop, rename).
    for table, checks in _tables().items():
        with op.batch_alter_table(table) as batch:
            for column, values, nullable in checks:
                batch.create_check_constraint(f"ck_{table}_{column}", _condition(column, values, nullable))


def downgrade() -> None:
    for table, checks in reversed(_tables().items()):
        with op.batch_alter_table(table) as batch:
            for column, _, _ in checks:
                batch.drop_constraint(f"ck_{table}_{column}", type_="check")
