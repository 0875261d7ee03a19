"""Period gate verdicts (recorded by `settld gate`) and period closes, per tenant and period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.core.database import Base, UTCDateTime
from api.core.states import check_constraint
from api.periods.states import PeriodStatus


class PeriodGateVerdict(Base):
    """The latest PeriodGateVerdict.v1 of a tenant's period; the close endpoint trusts nothing older."""

    __tablename__ = "period_gate_verdicts"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    verdict_hash: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean)
    failing_check_ids: Mapped[str] = mapped_column(Text)  # JSON array
    verdict: Mapped[str] = mapped_column(Text)  # the verdict's canonical JSON
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PeriodClose(Base):
    """A tenant's period close: closed periods are immutable; reopening needs a reason and is audited."""

    __tablename__ = "period_closes"
    __table_args__ = (check_constraint("status", PeriodStatus, table="period_closes"),)

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # PeriodStatus: closed | reopened
    revision: Mapped[int] = mapped_column(Integer)
    verdict_hash: Mapped[str] = mapped_column(String(64))
    bundle_file: Mapped[str] = mapped_column(String(512))
    bundle_sha256: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_by_key_id: Mapped[str | None] = mapped_column(String(32))
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopened_by_key_id: Mapped[str | None] = mapped_column(String(32))
    reopen_reason: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"version_id_col": revision, "version_id_generator": False}
