"""Request and response bodies of the onboarding routes (snake_case JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.core.pagination import Page, PageQuery
from api.core.schemas import RequestModel


class OnboardingEventIn(RequestModel):
    """Checked by the service, not by types, so each mistake has the old service's code
    (EVENT_TYPE_REQUIRED, INVALID_AT, INVALID_METADATA, INVALID_EVENT)."""

    event_type: Any = Field(default=None, description="An event type of the seed onboarding_event_types.")
    at: Any = Field(default=None, description="ISO-8601 with an offset; default: when it is received.")
    source: Any = Field(default=None, description="What sent it (sdk, ui, ...); cut to 64 characters.")
    metadata: Any = Field(default=None, description="An object: at most 20 scalar entries are kept.")
    event_id: Any = Field(default=None, description="The client's id: a repost with it changes nothing.")


class OnboardingEventOut(BaseModel):
    event_id: str
    event_type: str
    recorded_by: str
    source: str | None
    metadata: dict[str, Any]
    at: datetime
    received_at: datetime


class EventRecorded(BaseModel):
    ok: bool = True
    tenant_id: str
    duplicate: bool = Field(description="The event id was seen before: nothing changed.")
    event: OnboardingEventOut


class ChecklistStep(BaseModel):
    step: str
    order: int
    label: str
    done: bool
    at: datetime | None
    recorded_by: str
    command: str


class Checklist(BaseModel):
    tenant_id: str
    steps: list[ChecklistStep]
    completed_steps: int
    total_steps: int
    next_step: str | None
    next_command: str | None
    event_count: int


class CohortQuery(PageQuery):
    cohort_grain: Literal["week", "month"] | None = Field(
        default=None, description="Only week or month cohorts."
    )
    shareable_only: bool = Field(default=False, description="Leave out cohorts of fewer than 3 tenants.")


class CohortItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    cohort_grain: str
    cohort: str
    step: str
    step_order: int
    cohort_tenants: int
    reached_tenants: int
    previous_reached_tenants: int | None
    conversion_bps: int | None = Field(description="reach / reach of the step before, in basis points.")
    drop_off_bps: int | None
    is_shareable: bool = Field(description="At least 3 tenants; smaller cohorts are for platform ops only.")
    median_seconds_to_first_settlement: int | None
    p90_seconds_to_first_settlement: int | None
    published_at: datetime


class CohortPage(Page[CohortItem]):
    pass
