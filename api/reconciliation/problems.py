"""The problem codes of the reconciliation queue and triage (one class each: api/core/errors.py)."""

from __future__ import annotations

from api.core.errors import Problem
from api.core.revisions import IfMatchInvalid, RevisionAmbiguous, RevisionConflict  # noqa: F401


class MismatchNotFound(Problem):
    status, code, title = 404, "MISMATCH_NOT_FOUND", "No published mismatch with this key for the tenant."


class TriageNotFound(Problem):
    status, code, title = 404, "TRIAGE_NOT_FOUND", "No triage record with this key for the tenant."


class TriageClosed(Problem):
    status, code, title = 409, "TRIAGE_CLOSED", "The record is resolved or dismissed; reopen it to change it."


class ReopenStatusConflict(Problem):
    status, code, title = (
        422,
        "REOPEN_STATUS_CONFLICT",
        "action=reopen moves to open; omit status or send open.",
    )


class ReopenResolutionNotAllowed(Problem):
    status, code = 422, "REOPEN_RESOLUTION_NOT_ALLOWED"
    title = "action=reopen clears the resolution; do not send one."


class ReopenNotesRequired(Problem):
    status, code, title = 422, "REOPEN_NOTES_REQUIRED", "Reopening needs notes saying why."


class ResolutionRequired(Problem):
    status, code, title = 422, "RESOLUTION_REQUIRED", "Moving to resolved or dismissed needs a resolution."
