"""Request and response bodies of the onboarding routes (snake_case JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

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
