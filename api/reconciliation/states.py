"""The triage state machine, as data (the kit: api/core/states.py).

    open          -> acknowledged | in_progress | resolved | dismissed
    acknowledged  -> in_progress | resolved | dismissed
    in_progress   -> acknowledged | resolved | dismissed
    resolved, dismissed: terminal; only the `reopen` action (with notes) brings them back to open.

Moving to resolved or dismissed requires a `resolution`. Staying in the same status is not a transition.
"""

from __future__ import annotations

from enum import StrEnum

from api.core.states import StateMachine
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


TRIAGE = StateMachine(
    "triage record",
    {
        TriageStatus.open: {
            TriageStatus.acknowledged, TriageStatus.in_progress, TriageStatus.resolved, TriageStatus.dismissed,
        },
        TriageStatus.acknowledged: {TriageStatus.in_progress, TriageStatus.resolved, TriageStatus.dismissed},
        TriageStatus.in_progress: {TriageStatus.acknowledged, TriageStatus.resolved, TriageStatus.dismissed},
        TriageStatus.resolved: set(),
        TriageStatus.dismissed: set(),
    },
)  # fmt: skip
TERMINAL_STATUSES = TRIAGE.terminal
# Un-triaging is not a move: the `reopen` action brings a terminal record back to open.
REOPENABLE_STATUSES = TERMINAL_STATUSES
STATUSES_NEEDING_RESOLUTION = frozenset({TriageStatus.resolved, TriageStatus.dismissed})
