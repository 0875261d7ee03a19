"""The triage state machine, as data.

    open          -> acknowledged | in_progress | resolved | dismissed
    acknowledged  -> in_progress | resolved | dismissed
    in_progress   -> acknowledged | resolved | dismissed
    resolved, dismissed: terminal; only the `reopen` action (with notes) brings them back to open.

Moving to resolved or dismissed requires a `resolution`. Staying in the same status is not a transition.
"""

from __future__ import annotations

from enum import StrEnum

from settld.vocabulary import (  # noqa: F401  (re-exported: the domain's vocabulary in one import)
    HANDLED_STATUSES,
    SERIOUS_SEVERITIES,
    SEVERITY_RANK,
    Severity,
    TriageStatus,
)


class TriageAction(StrEnum):
    """What a change is recorded as in the action log (the request's optional `action` is only `reopen`)."""

    create = "triage_create"
    update = "triage_update"
    reopen = "triage_reopen"


ALLOWED_TRANSITIONS: dict[TriageStatus, frozenset[TriageStatus]] = {
    TriageStatus.open: frozenset(
        {TriageStatus.acknowledged, TriageStatus.in_progress, TriageStatus.resolved, TriageStatus.dismissed}
    ),
    TriageStatus.acknowledged: frozenset(
        {TriageStatus.in_progress, TriageStatus.resolved, TriageStatus.dismissed}
    ),
    TriageStatus.in_progress: frozenset(
        {TriageStatus.acknowledged, TriageStatus.resolved, TriageStatus.dismissed}
    ),
    TriageStatus.resolved: frozenset(),
    TriageStatus.dismissed: frozenset(),
}
TERMINAL_STATUSES = frozenset(status for status, moves in ALLOWED_TRANSITIONS.items() if not moves)
REOPENABLE_STATUSES = TERMINAL_STATUSES
STATUSES_NEEDING_RESOLUTION = frozenset({TriageStatus.resolved, TriageStatus.dismissed})


def is_allowed(current: TriageStatus, target: TriageStatus) -> bool:
    return target == current or target in ALLOWED_TRANSITIONS[current]
