"""The onboarding vocabulary, read from the seed dbt reads too (`dbt_project/seeds/onboarding_event_types.csv`):
every event type a tenant may report or the platform witnesses, and the five funnel steps in order."""

from __future__ import annotations

from dataclasses import dataclass

from settld.vocabulary import read_seed

PLATFORM_EVENT_PREFIX = "platform:"


@dataclass(frozen=True)
class EventType:
    event_type: str
    funnel_step_order: int | None  # 1..5 for a funnel step, None for the wizard's and uploads' events
    is_platform_witnessed: bool  # never accepted from a client
    label: str
    next_action: str  # what to run to reach the step; `{tenant_id}` and `{base_url}` are filled in


def _load() -> dict[str, EventType]:
    return {
        row["event_type"]: EventType(
            event_type=row["event_type"],
            funnel_step_order=int(row["funnel_step_order"]) if row["funnel_step_order"] else None,
            is_platform_witnessed=row["is_platform_witnessed"] == "true",
            label=row["label"],
            next_action=row["next_action"],
        )
        for row in read_seed("onboarding_event_types")
    }


EVENT_TYPES = _load()
FUNNEL_STEPS: tuple[EventType, ...] = tuple(
    sorted((t for t in EVENT_TYPES.values() if t.funnel_step_order), key=lambda t: t.funnel_step_order or 0)
)
SIGNUP = "signup"
API_KEY_CREATED = "api_key_created"
FIRST_SETTLEMENT_COMPLETED = "first_settlement_completed"
