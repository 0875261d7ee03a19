"""Published mismatches, their triage records and the triage action log.

These are plain tables on purpose: dbt reads `reconciliation_mismatches`, `reconciliation_triage` and
`reconciliation_triage_actions` as sources (on DuckDB by attaching the SQLite file).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.core.database import Base, UTCDateTime
from api.core.states import check_constraint
from api.reconciliation.states import Severity, TriageStatus


class ReconciliationMismatch(Base):
    """One row of marts.fct_reconciliation_mismatches as last published, plus its publication history."""

    __tablename__ = "reconciliation_mismatches"
    __table_args__ = (
        Index(
            "ix_reconciliation_mismatches_queue", "tenant_id", "cleared_at", "severity_rank", "first_seen_at"
        ),
        Index("ix_reconciliation_mismatches_period", "tenant_id", "period", "provider_id"),
        check_constraint("severity", Severity, table="reconciliation_mismatches"),
    )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    triage_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    provider_id: Mapped[str] = mapped_column(String(128))
    mismatch_type: Mapped[str] = mapped_column(String(64))
    mismatch_key: Mapped[str] = mapped_column(String(256))
    source_type: Mapped[str] = mapped_column(String(64))
    mismatch_code: Mapped[str] = mapped_column(String(128))
    severity: Mapped[str] = mapped_column(String(16))
    severity_rank: Mapped[int] = mapped_column(Integer)
    party_id: Mapped[str | None] = mapped_column(String(256))
    operation_id: Mapped[str | None] = mapped_column(String(256))
    operation_state: Mapped[str | None] = mapped_column(String(32))
    operation_count: Mapped[int] = mapped_column(BigInteger)
    expected_amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    actual_amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    amount_delta_cents: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    actual_currency: Mapped[str | None] = mapped_column(String(3))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The publish that brought this mismatch while its period was closed (set once, never cleared).
    found_after_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReconciliationTriage(Base):
    """FinanceReconciliationTriage.v1: the operator's decision about one mismatch."""

    __tablename__ = "reconciliation_triage"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "triage_key"],
            ["reconciliation_mismatches.tenant_id", "reconciliation_mismatches.triage_key"],
            name="fk_reconciliation_triage_mismatch",
        ),
        Index("ix_reconciliation_triage_updated", "tenant_id", "updated_at", "triage_key"),
        check_constraint("status", TriageStatus, table="reconciliation_triage"),
        check_constraint("severity", Severity, table="reconciliation_triage", nullable=True),
    )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    triage_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    # Identity of the mismatch, copied at creation so the record reads on its own.
    source_type: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    provider_id: Mapped[str] = mapped_column(String(128))
    mismatch_type: Mapped[str] = mapped_column(String(64))
    mismatch_key: Mapped[str] = mapped_column(String(256))
    mismatch_code: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(200))
    # Operator's override of the published severity (low|medium|high|critical), null = keep published.
    severity: Mapped[str | None] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer)
    created_by_key_id: Mapped[str | None] = mapped_column(String(32))
    updated_by_key_id: Mapped[str | None] = mapped_column(String(32))
    resolved_by_key_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    in_progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The ORM adds `WHERE revision = <loaded>` to every UPDATE and raises StaleDataError when no row matched:
    # optimistic concurrency even where SELECT ... FOR UPDATE is a no-op. We set the new revision ourselves.
    __mapper_args__ = {"version_id_col": revision, "version_id_generator": False}


class ReconciliationTriageAction(Base):
    """One change to a triage record; (tenant, triage_key, revision) is unique, so no revision is made twice."""

    __tablename__ = "reconciliation_triage_actions"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "triage_key", "revision", name="uq_reconciliation_triage_actions_revision"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "triage_key"],
            ["reconciliation_triage.tenant_id", "reconciliation_triage.triage_key"],
            name="fk_reconciliation_triage_actions_triage",
        ),
        check_constraint("prev_status", TriageStatus, table="reconciliation_triage_actions", nullable=True),
        check_constraint("next_status", TriageStatus, table="reconciliation_triage_actions"),
    )

    action_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    triage_key: Mapped[str] = mapped_column(String(128))
    revision: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    prev_status: Mapped[str | None] = mapped_column(String(16))
    next_status: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    actor_key_id: Mapped[str | None] = mapped_column(String(32))
    request_id: Mapped[str | None] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
