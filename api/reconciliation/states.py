"""The triage state machine, as data.

    open          -> acknowledged | in_progress | resolved | dismissed
    acknowledged  -> in_progress | resolved | dismissed
    in_progress   -> acknowledged | resolved | dismissed
    resolved, dismissed: terminal; only the `reopen` action (with notes) brings them back to open.

Moving to resolved or dismissed requires a `resolution`. Staying in the same status is not a transition.
"""

from __future__ import annotations

from enum import StrEnum


class TriageStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    resolved = "resolved"
    dismissed = "dismissed"


class TriageAction(StrEnum):
    """What a change is recorded as in the action log (the request's optional `action` is only `reopen`)."""

    create = "triage_create"
    update = "triage_update"
    reopen = "triage_reopen"


class Severity(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"


# Published severities rank 1..3 (marts.fct_reconciliation_mismatches.severity_rank); an operator may also
# lower a mismatch to `low`, which sorts after them.
SEVERITY_RANK: dict[str, int] = {"critical": 1, "high": 2, "medium": 3, "low": 4}

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
# The period gate and the close: a mismatch of these (effective) severities blocks until it is handled,
# i.e. its triage reached a terminal status.
SERIOUS_SEVERITIES = frozenset({Severity.critical.value, Severity.high.value})
HANDLED_STATUSES = frozenset(status.value for status in TERMINAL_STATUSES)


def is_allowed(current: TriageStatus, target: TriageStatus) -> bool:
    return target == current or target in ALLOWED_TRANSITIONS[current]
