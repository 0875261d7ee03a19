"""The append-only audit log: one row per write, in the same transaction as the write."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.core.database import Base, UTCDateTime

# SQLite only auto-increments an `INTEGER PRIMARY KEY`; Postgres gets a bigint identity.
AUDIT_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class AuditLogEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_tenant_id_id", "tenant_id", "id"),
        Index("ix_audit_log_tenant_target", "tenant_id", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(AUDIT_ID_TYPE, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    actor_key_id: Mapped[str | None] = mapped_column(String(32))
    request_id: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(100))
    target_type: Mapped[str] = mapped_column(String(100))
    target_id: Mapped[str] = mapped_column(String(200))
    # sha256 of `details_json`, which is the canonical JSON of the change details.
    details_hash: Mapped[str] = mapped_column(String(64))
    details_json: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
