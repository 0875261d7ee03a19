"""Stored responses of writes that carried an Idempotency-Key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.core.database import Base, UTCDateTime


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    # The scope of a key: one tenant and one API key. The constraint is what makes a racing duplicate lose.
    __table_args__ = (
        UniqueConstraint("tenant_id", "key_id", "idempotency_key", name="uq_idempotency_records_scope"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    # sha256 of canonical JSON {method, path, body}.
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(128))
    # When the response was stored; it is replayed for the retention after it, then purged (indexed for that).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
