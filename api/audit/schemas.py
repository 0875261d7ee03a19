"""Audit log query and response bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from api.core.pagination import Page, PageQuery


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as error:  # e.g. year 1 with a positive offset
        raise ValueError("timestamp is out of range") from error


UtcTimestamp = Annotated[AwareDatetime, AfterValidator(_to_utc)]
Label = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]{1,200}$")]


class AuditQuery(PageQuery):
    action: Label | None = Field(default=None, examples=["FINANCE_RECONCILIATION_TRIAGE_UPSERT"])
    target_type: Label | None = Field(default=None, examples=["reconciliation_triage"])
    target_id: Label | None = None
    since: UtcTimestamp | None = Field(
        default=None, description="Inclusive lower bound on `at` (ISO-8601 with offset)."
    )
    until: UtcTimestamp | None = Field(default=None, description="Exclusive upper bound on `at`.")


class AuditItem(BaseModel):
    id: int
    tenant_id: str
    actor_key_id: str | None
    request_id: str | None
    action: str
    target_type: str
    target_id: str
    details_hash: str = Field(description="sha256 of the canonical JSON of `details`.")
    details: Any
    at: datetime


class AuditPage(Page[AuditItem]):
    pass
