"""The problem codes of period close and reopen (one class each: api/core/errors.py)."""

from __future__ import annotations

from api.core.errors import Problem


class PeriodGateFailed(Problem):
    status, code, title = 409, "PERIOD_GATE_FAILED", "The period's gate is not green; nothing was closed."
    members = ("failing_check_ids",)


class EvidenceIncomplete(Problem):
    status, code = 409, "EVIDENCE_INCOMPLETE"
    title = "Reports or invoice drafts the gate verdict names are no longer on disk."
    members = ("missing_reports",)


class PeriodNotClosed(Problem):
    status, code, title = 404, "PERIOD_NOT_CLOSED", "The period has never been closed."


class ReasonRequired(Problem):
    status, code, title = 422, "REASON_REQUIRED", "Reopening a closed period needs a reason."


class ClosedAtInvalid(Problem):
    status, code = 422, "CLOSED_AT_INVALID"
    title = "The close instant is unknown, before the period's end, or in the future; nothing was closed."
