"""Request and response bodies of the period routes (snake_case JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.core.schemas import RequestModel
from api.periods.states import PeriodStatus


class PeriodCloseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tenant_id: str
    period: str
    status: PeriodStatus
    revision: int
    verdict_hash: str
    bundle_file: str
    bundle_sha256: str
    closed_at: datetime
    closed_by_key_id: str | None
    reopened_at: datetime | None
    reopened_by_key_id: str | None
    reopen_reason: str | None


class CloseResponse(BaseModel):
    ok: bool = True
    changed: bool
    close: PeriodCloseOut


class CloseRequest(RequestModel):
    closed_at: datetime | None = Field(
        default=None,
        description="The close instant (ISO-8601; naive means UTC): the finalised invoices' finalizedAt. "
        "Default: the as-of of the build the gate verdict judged. Not before the period's end, not in the future.",
    )


class ReopenRequest(RequestModel):
    reason: str = Field(min_length=1, max_length=2000, description="Why the closed period must change.")


class VerdictOut(BaseModel):
    verdict_hash: str
    ok: bool
    failing_check_ids: list[str]
    recorded_at: datetime
    verdict: dict[str, Any]


class PeriodOut(BaseModel):
    period: str
    close: PeriodCloseOut | None
    gate: VerdictOut | None
