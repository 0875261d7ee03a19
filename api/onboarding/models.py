"""Onboarding events: what a tenant reported (wizard, first run, ...) and what the platform witnessed
(signup, first key, first settlement), one row per (tenant, event_id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.core.database import Base, UTCDateTime
from api.core.states import check_constraint

RECORDERS = ("tenant", "platform")


class OnboardingEvent(Base):
    __tablename__ = "onboarding_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id", name="uq_onboarding_events_tenant_event"),
        check_constraint("recorded_by", RECORDERS, table="onboarding_events"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.tenant_id"), index=True)
    # The client's id (a repost with it is a no-op), or `platform:<event_type>` for a witnessed step.
    event_id: Mapped[str] = mapped_column(String(128))
    event_type: Mapped[str] = mapped_column(String(64))
    # Who vouches for it: a step the platform witnesses is only ever recorded by the platform.
    recorded_by: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(64))  # what the client says sent it (sdk, ui, ...)
    metadata_json: Mapped[str] = mapped_column(Text)  # canonical JSON of the sanitised metadata
    actor_key_id: Mapped[str | None] = mapped_column(String(32))
    request_id: Mapped[str | None] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())  # when it happened (the client's `at`, or received)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OnboardingCohort(Base):
    """marts.fct_onboarding_cohorts as published by the pipeline (cross-tenant: platform ops only)."""

    __tablename__ = "onboarding_cohorts"

    cohort_grain: Mapped[str] = mapped_column(String(8), primary_key=True)
    cohort: Mapped[str] = mapped_column(String(10), primary_key=True)
    step: Mapped[str] = mapped_column(String(64), primary_key=True)
    step_order: Mapped[int] = mapped_column(Integer)
    cohort_tenants: Mapped[int] = mapped_column(BigInteger)
    reached_tenants: Mapped[int] = mapped_column(BigInteger)
    previous_reached_tenants: Mapped[int | None] = mapped_column(BigInteger)
    conversion_bps: Mapped[int | None] = mapped_column(BigInteger)
    drop_off_bps: Mapped[int | None] = mapped_column(BigInteger)
    is_shareable: Mapped[bool] = mapped_column(Boolean)
    median_seconds_to_first_settlement: Mapped[int | None] = mapped_column(BigInteger)
    p90_seconds_to_first_settlement: Mapped[int | None] = mapped_column(BigInteger)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
