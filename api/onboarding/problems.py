"""The problem codes of onboarding events (one class each: api/core/errors.py); the old service's codes."""

from __future__ import annotations

from api.core.errors import Problem


class EventTypeRequired(Problem):
    status, code, title = (
        400,
        "EVENT_TYPE_REQUIRED",
        "`event_type` is required and must be a non-empty string.",
    )


class InvalidEvent(Problem):
    status, code, title = 400, "INVALID_EVENT", "`event_type` is not an onboarding event type."
    members = ("event_type", "known_event_types")


class EventPlatformWitnessed(Problem):
    status, code = 400, "EVENT_PLATFORM_WITNESSED"
    title = "This step is recorded by the platform when it happens, never taken from a client."
    members = ("event_type",)


class InvalidAt(Problem):
    status, code = 400, "INVALID_AT"
    title = "`at` must be an ISO-8601 time with a UTC offset, not in the future."


class InvalidMetadata(Problem):
    status, code, title = 400, "INVALID_METADATA", "`metadata` must be a JSON object."


class InvalidEventId(Problem):
    status, code = 400, "INVALID_EVENT_ID"
    title = "`event_id` is 1-128 printable ASCII characters and may not start with `platform:`."


EVENT_PROBLEMS = (EventTypeRequired, InvalidEvent, EventPlatformWitnessed, InvalidAt, InvalidMetadata,
                  InvalidEventId)  # fmt: skip
