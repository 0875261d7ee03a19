"""Published settlements, disputes, arbitration cases with their append-only revisions, the settlement
adjustments verdicts write, and the SLA watchdog's alerts.

Plain tables on purpose: dbt reads disputes, cases, revisions and adjustments as sources (on DuckDB by
attaching the SQLite file). Lists of refs are canonical JSON text (sorted, unique), portable to both engines.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.arbitration.states import (
    CaseStatus,
    DisputeStatus,
    EscalationLevel,
    Outcome,
    Priority,
    SettlementStatus,
)
from api.core.database import Base, UTCDateTime
from api.core.states import check_constraint

ID = 128


class PublishedSettlement(Base):
    """The latest state of a settlement as the pipeline last published it (marts.fct_settlements)."""

    __tablename__ = "arbitration_settlements"
    __table_args__ = (check_constraint("status", SettlementStatus, table="arbitration_settlements"),)

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    settlement_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(ID))
    payer_agent_id: Mapped[str] = mapped_column(String(ID))
    payee_agent_id: Mapped[str] = mapped_column(String(ID))
    status: Mapped[str] = mapped_column(String(16))
    policy_id: Mapped[str | None] = mapped_column(String(ID))
    policy_version: Mapped[int | None] = mapped_column(Integer)
    policy_hash: Mapped[str | None] = mapped_column(String(ID))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    released_amount_cents: Mapped[int] = mapped_column(BigInteger)
    refunded_amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dispute_window_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Dispute(Base):
    __tablename__ = "disputes"
    __table_args__ = (
        Index("ix_disputes_settlement", "tenant_id", "settlement_id", "status"),
        check_constraint("status", DisputeStatus, table="disputes"),
        check_constraint("priority", Priority, table="disputes"),
        check_constraint("escalation_level", EscalationLevel, table="disputes"),
        check_constraint("outcome", Outcome, table="disputes", nullable=True),
    )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    dispute_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    settlement_id: Mapped[str] = mapped_column(String(ID))
    run_id: Mapped[str] = mapped_column(String(ID))
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    escalation_level: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    opened_by_agent_id: Mapped[str | None] = mapped_column(String(ID))
    evidence_refs: Mapped[str] = mapped_column(Text)  # canonical JSON list
    outcome: Mapped[str | None] = mapped_column(String(16))
    release_rate_pct: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str | None] = mapped_column(Text)
    closed_by_agent_id: Mapped[str | None] = mapped_column(String(ID))
    verdict_id: Mapped[str | None] = mapped_column(String(ID))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": revision, "version_id_generator": False}


class ArbitrationCase(Base):
    """ArbitrationCase.v1, snake_case; `revision` is 1 on open and +1 per action."""

    __tablename__ = "arbitration_cases"
    __table_args__ = (
        Index("ix_arbitration_cases_dispute", "tenant_id", "dispute_id", "opened_at"),
        check_constraint("status", CaseStatus, table="arbitration_cases"),
        check_constraint("priority", Priority, table="arbitration_cases"),
        check_constraint("verdict_outcome", Outcome, table="arbitration_cases", nullable=True),
    )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(ID))
    settlement_id: Mapped[str] = mapped_column(String(ID))
    dispute_id: Mapped[str] = mapped_column(String(ID))
    claimant_agent_id: Mapped[str | None] = mapped_column(String(ID))
    respondent_agent_id: Mapped[str | None] = mapped_column(String(ID))
    arbiter_agent_id: Mapped[str | None] = mapped_column(String(ID))
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str | None] = mapped_column(Text)
    evidence_refs: Mapped[str] = mapped_column(Text)  # canonical JSON list
    appeal_parent_case_id: Mapped[str | None] = mapped_column(String(ID))
    appeal_parent_verdict_id: Mapped[str | None] = mapped_column(String(ID))
    appeal_reason: Mapped[str | None] = mapped_column(Text)
    assignment_hash: Mapped[str | None] = mapped_column(String(64))
    panel_candidate_agent_ids: Mapped[str | None] = mapped_column(Text)  # canonical JSON list
    verdict_id: Mapped[str | None] = mapped_column(String(ID))
    verdict_hash: Mapped[str | None] = mapped_column(String(64))
    verdict_outcome: Mapped[str | None] = mapped_column(String(16))
    verdict_release_rate_pct: Mapped[int | None] = mapped_column(Integer)
    verdict_rationale: Mapped[str | None] = mapped_column(Text)
    verdict_evidence_refs: Mapped[str | None] = mapped_column(Text)
    verdict_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": revision, "version_id_generator": False}


class ArbitrationCaseRevision(Base):
    """Append-only: the case as it stood after each action, keyed (tenant, case, revision); `seq` orders
    every revision of the database, so the queue can read all cases as of one instant (a page's snapshot)."""

    __tablename__ = "arbitration_case_revisions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "case_id", "revision", name="uq_arbitration_case_revisions_revision"),
        Index("ix_arbitration_case_revisions_case", "tenant_id", "case_id", "seq"),
        check_constraint("status", CaseStatus, table="arbitration_case_revisions"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str] = mapped_column(String(ID))
    revision: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    run_id: Mapped[str] = mapped_column(String(ID))
    settlement_id: Mapped[str] = mapped_column(String(ID))
    dispute_id: Mapped[str] = mapped_column(String(ID))
    arbiter_agent_id: Mapped[str | None] = mapped_column(String(ID))
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str | None] = mapped_column(Text)
    evidence_count: Mapped[int] = mapped_column(Integer)
    appeal_parent_case_id: Mapped[str | None] = mapped_column(String(ID))
    verdict_outcome: Mapped[str | None] = mapped_column(String(16))
    verdict_release_rate_pct: Mapped[int | None] = mapped_column(Integer)
    verdict_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    case_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the case document at this revision
    actor_key_id: Mapped[str | None] = mapped_column(String(32))
    request_id: Mapped[str | None] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class SettlementAdjustment(Base):
    """What a closed case's verdict does to the money: release = floor(amount * rate / 100), the rest
    refunded. A later resolution of the same settlement (an appeal's verdict) writes the next `adjustment_seq`;
    the highest one counts."""

    __tablename__ = "settlement_adjustments"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "settlement_id", "adjustment_seq", name="uq_settlement_adjustments_seq"
        ),
        check_constraint("outcome", Outcome, table="settlement_adjustments"),
    )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    adjustment_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    settlement_id: Mapped[str] = mapped_column(String(ID))
    adjustment_seq: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per settlement: the highest counts
    run_id: Mapped[str] = mapped_column(String(ID))
    dispute_id: Mapped[str] = mapped_column(String(ID))
    case_id: Mapped[str | None] = mapped_column(String(ID))
    verdict_id: Mapped[str | None] = mapped_column(String(ID))
    outcome: Mapped[str] = mapped_column(String(16))
    release_rate_pct: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    released_amount_cents: Mapped[int] = mapped_column(BigInteger)
    refunded_amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ArbitrationAlert(Base):
    """One `dispute_case_over_sla` alert per (tenant, case, 15-minute bucket): the key makes a second
    page impossible, across sensor ticks and restarts."""

    __tablename__ = "arbitration_alerts"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "alert_type", "case_id", "bucket_start_at", name="uq_arbitration_alerts_bucket"
        ),
    )

    alert_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    alert_type: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str] = mapped_column(String(ID))
    bucket_start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON
    sink: Mapped[str] = mapped_column(String(16))
    delivery_status: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
