"""What a client may say about its onboarding, checked and cut to size as the old service did: a known,
client-reportable event type, an `at` with an offset, and metadata of at most 20 scalar entries."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from api.onboarding.problems import (
    EventPlatformWitnessed,
    EventTypeRequired,
    InvalidAt,
    InvalidEvent,
    InvalidEventId,
    InvalidMetadata,
)
from api.onboarding.steps import EVENT_TYPES, PLATFORM_EVENT_PREFIX

MAX_METADATA_KEYS = 20
MAX_METADATA_KEY_LENGTH = 64
MAX_METADATA_STRING = 200
# A client clock may run a little ahead of ours; beyond that an `at` is refused rather than trusted.
CLOCK_SKEW = timedelta(minutes=5)
EVENT_ID_PATTERN = re.compile(r"^[\x21-\x7e]{1,128}$")


def event_type_of(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise EventTypeRequired()
    event_type = value.strip()
    known = EVENT_TYPES.get(event_type)
    if known is None:
        raise InvalidEvent(f"unknown event type {event_type[:64]!r}", event_type=event_type[:64],
                           known_event_types=sorted(EVENT_TYPES))  # fmt: skip
    if known.is_platform_witnessed:
        raise EventPlatformWitnessed(f"{event_type} is recorded by the platform", event_type=event_type)
    return event_type


def at_of(value: Any, *, received_at: datetime) -> datetime:
    """The client's `at` (received_at when absent): ISO-8601 with an offset, at most CLOCK_SKEW ahead."""
    if value is None:
        return received_at
    if not isinstance(value, str):
        raise InvalidAt()
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidAt(f"`at` is not an ISO-8601 time: {value[:64]!r}") from None
    if at.tzinfo is None:
        raise InvalidAt("`at` has no UTC offset (write `Z` or `+00:00`)")
    if at - received_at > CLOCK_SKEW:
        raise InvalidAt("`at` lies in the future")
    return at.astimezone(UTC)


def event_id_of(value: Any) -> str | None:
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not EVENT_ID_PATTERN.match(value)
        or value.startswith(PLATFORM_EVENT_PREFIX)
    ):
        raise InvalidEventId()
    return value


def sanitise_metadata(value: Any) -> dict[str, str | int | float | bool | None]:
    """At most MAX_METADATA_KEYS entries, in the order sent; an entry whose key is empty or longer than
    MAX_METADATA_KEY_LENGTH, or whose value is not a scalar (an object, a list), is dropped; strings are
    cut to MAX_METADATA_STRING characters. Anything but an object (or null) is INVALID_METADATA."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidMetadata()
    kept: dict[str, str | int | float | bool | None] = {}
    for key, item in value.items():
        if len(kept) == MAX_METADATA_KEYS:
            break
        if not key or len(key) > MAX_METADATA_KEY_LENGTH:
            continue
        if isinstance(item, str):
            kept[key] = item[:MAX_METADATA_STRING]
        elif (
            item is None or isinstance(item, bool | int) or (isinstance(item, float) and math.isfinite(item))
        ):
            kept[key] = item
    return kept
