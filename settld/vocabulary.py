"""Words more than one stage uses, defined once: the pipeline's gate and the operator API's triage both
judge a mismatch by its severity and by whether its triage is finished.

The triage state machine itself (which status may follow which) is the API's
(`api/reconciliation/states.py`); what the period gate needs of it, the statuses in which a mismatch
counts as handled, is here so the pipeline never imports the service. A test checks that these are
exactly the state machine's terminal statuses.
"""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"


class TriageStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    resolved = "resolved"
    dismissed = "dismissed"


# Published severities rank 1..3 (marts.fct_reconciliation_mismatches.severity_rank); an operator may also
# lower a mismatch to `low`, which sorts after them.
SEVERITY_RANK: dict[str, int] = {"critical": 1, "high": 2, "medium": 3, "low": 4}
# The period gate and the close: a mismatch of these (effective) severities blocks until it is handled,
# i.e. its triage reached a terminal status.
SERIOUS_SEVERITIES = frozenset({Severity.critical.value, Severity.high.value})
HANDLED_STATUSES = frozenset({TriageStatus.resolved.value, TriageStatus.dismissed.value})
