"""The settlement policy registry: immutable versions, each tenant's rollout state with its history, and
the assignment recorded with every run that resolved a policy.

Versions are written once and never updated (tests/api/test_api_policies_immutable.py greps the code for
an UPDATE of the table). Documents are canonical JSON text, portable to both engines; dbt reads all four
tables as sources (on DuckDB by attaching the SQLite file).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.core.database import Base, UTCDateTime
from api.core.states import check_constraint
from api.policies.states import AssignedStage, RolloutAction, Stage

ID = 128


class PolicyVersion(Base):
    """TenantSettlementPolicy.v1: one immutable version of a tenant's policy."""

    __tablename__ = "settlement_policy_versions"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    policy_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    policy_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_hash: Mapped[str] = mapped_column(String(64))
    verification_method_hash: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(500))
    policy_json: Mapped[str] = mapped_column(Text)  # the normalised SettlementPolicy.v1, canonical JSON
    verification_method_json: Mapped[str] = mapped_column(Text)  # the normalised VerificationMethod.v1
    metadata_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_key_id: Mapped[str | None] = mapped_column(String(32))

    @property
    def policy(self) -> dict:
        return json.loads(self.policy_json)

    @property
    def verification_method(self) -> dict:
        return json.loads(self.verification_method_json)

    @property
    def ref(self) -> dict:
        return {"policy_id": self.policy_id, "policy_version": self.policy_version,
                "policy_hash": self.policy_hash}  # fmt: skip


class PolicyRollout(Base):
    """TenantSettlementPolicyRollout.v1: the three slots of a tenant's rollout (references only)."""

    __tablename__ = "settlement_policy_rollouts"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    draft_policy_id: Mapped[str | None] = mapped_column(String(ID))
    draft_policy_version: Mapped[int | None] = mapped_column(Integer)
    canary_policy_id: Mapped[str | None] = mapped_column(String(ID))
    canary_policy_version: Mapped[int | None] = mapped_column(Integer)
    canary_rollout_percent: Mapped[int] = mapped_column(Integer)  # 0 without a canary, else 1..100
    active_policy_id: Mapped[str | None] = mapped_column(String(ID))
    active_policy_version: Mapped[int | None] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": revision, "version_id_generator": False}


class PolicyRolloutEvent(Base):
    """One move of a rollout, append-only: the revision it produced, from and to which reference."""

    __tablename__ = "settlement_policy_rollout_history"
    __table_args__ = (
        Index("ix_settlement_policy_rollout_history_tenant", "tenant_id", "seq"),
        check_constraint("action", RolloutAction, table="settlement_policy_rollout_history"),
        check_constraint("stage", Stage, table="settlement_policy_rollout_history"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    rollout_revision: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(16))
    from_policy_id: Mapped[str | None] = mapped_column(String(ID))
    from_policy_version: Mapped[int | None] = mapped_column(Integer)
    to_policy_id: Mapped[str | None] = mapped_column(String(ID))
    to_policy_version: Mapped[int | None] = mapped_column(Integer)
    rollout_percent: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(500))
    actor_key_id: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class PolicyAssignment(Base):
    """The policy a run was given, once: later moves and rollbacks never change it."""

    __tablename__ = "settlement_policy_assignments"
    __table_args__ = (check_constraint("stage", AssignedStage, table="settlement_policy_assignments"),)

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    stage: Mapped[str] = mapped_column(String(16))
    policy_id: Mapped[str] = mapped_column(String(ID))
    policy_version: Mapped[int] = mapped_column(Integer)
    policy_hash: Mapped[str] = mapped_column(String(64))
    bucket: Mapped[int] = mapped_column(Integer)
    rollout_percent: Mapped[int] = mapped_column(Integer)
    rollout_revision: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(String(128))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())
