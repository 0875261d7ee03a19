"""The problem codes of the reconciliation queue and triage (one class each: api/core/errors.py)."""

from __future__ import annotations

from api.core.errors import Problem


class IfMatchInvalid(Problem):
    status, code, title = 400, "IF_MATCH_INVALID", 'If-Match must carry a revision number, e.g. "3".'


class RevisionAmbiguous(Problem):
    status, code, title = (
        400,
        "REVISION_AMBIGUOUS",
        "expected_revision and If-Match name different revisions.",
    )


class MismatchNotFound(Problem):
    status, code, title = 404, "MISMATCH_NOT_FOUND", "No published mismatch with this key for the tenant."


class TriageNotFound(Problem):
    status, code, title = 404, "TRIAGE_NOT_FOUND", "No triage record with this key for the tenant."


class RevisionConflict(Problem):
    status, code, title = 409, "REVISION_CONFLICT", "The record is at another revision; reload and retry."
    members = ("current_revision", "expected_revision")


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
