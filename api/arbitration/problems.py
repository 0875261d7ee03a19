"""The problem codes of disputes, arbitration cases and the queue (one class each: api/core/errors.py)."""

from __future__ import annotations

from api.core.errors import Problem

# Revisions mean the same in every domain: the codes are triage's (a code is defined once).
from api.core.revisions import IfMatchInvalid, RevisionAmbiguous, RevisionConflict  # noqa: F401


class SettlementNotFound(Problem):
    status, code, title = 404, "SETTLEMENT_NOT_FOUND", "No published settlement with this id for this tenant."


class DisputeNotFound(Problem):
    status, code, title = 404, "DISPUTE_NOT_FOUND", "No dispute with this id on this settlement."


class CaseNotFound(Problem):
    status, code, title = (
        404,
        "ARBITRATION_CASE_NOT_FOUND",
        "No arbitration case with this id for this tenant.",
    )


class DisputeWindowExpired(Problem):
    status, code, title = 409, "DISPUTE_WINDOW_EXPIRED", "The settlement's dispute window has ended."
    members = ("dispute_window_ends_at",)


class DisputeAlreadyOpen(Problem):
    status, code, title = 409, "DISPUTE_ALREADY_OPEN", "The settlement already has an open dispute."
    members = ("dispute_id",)


class DisputeIdTaken(Problem):
    status, code, title = 409, "DISPUTE_ID_TAKEN", "A dispute with this id already exists."


class CaseIdTaken(Problem):
    status, code, title = 409, "ARBITRATION_CASE_ID_TAKEN", "An arbitration case with this id already exists."


class EvidenceOutsideDispute(Problem):
    status, code = 409, "EVIDENCE_OUTSIDE_DISPUTE"
    title = "An evidence ref is not among the dispute's (case) or the case's (verdict) evidence refs."
    members = ("unknown_evidence_refs",)


class ArbiterRequired(Problem):
    status, code = 422, "ARBITER_REQUIRED"
    title = "Send arbiter_agent_id or a non-empty panel_candidate_agent_ids (not both)."


class VerdictIssuedAtInvalid(Problem):
    status, code = 422, "VERDICT_ISSUED_AT_INVALID"
    title = "issued_at is before the case opened or later than now."


class AppealParentInvalid(Problem):
    status, code = 409, "APPEAL_PARENT_INVALID"
    title = "Only a case with a verdict (verdict_issued or closed) can be appealed."


class DisputeHasActiveCase(Problem):
    status, code = 409, "DISPUTE_HAS_ACTIVE_CASE"
    title = "The dispute has an arbitration case without a verdict; close it through the case."
    members = ("case_ids",)


# The queue's 400s: one code per query parameter, so a client knows which one to fix.
QUERY_MEMBERS = ("parameter", "value")


class QueueStatusInvalid(Problem):
    members = QUERY_MEMBERS
    status, code, title = (
        400,
        "ARBITRATION_QUEUE_STATUS_INVALID",
        "The queue's `status` parameter is invalid.",
    )


class QueuePriorityInvalid(Problem):
    members = QUERY_MEMBERS
    status, code, title = (
        400,
        "ARBITRATION_QUEUE_PRIORITY_INVALID",
        "The queue's `priority` parameter is invalid.",
    )


class QueueAssignedInvalid(Problem):
    members = QUERY_MEMBERS
    status, code, title = (
        400,
        "ARBITRATION_QUEUE_ASSIGNED_INVALID",
        "The queue's `assigned` parameter is invalid.",
    )


class QueueArbiterInvalid(Problem):
    members = QUERY_MEMBERS
    status, code, title = (
        400,
        "ARBITRATION_QUEUE_ARBITER_INVALID",
        "The queue's `arbiter` parameter is invalid.",
    )


class QueueRunIdInvalid(Problem):
    members = QUERY_MEMBERS
    status, code, title = (
        400,
        "ARBITRATION_QUEUE_RUN_ID_INVALID",
        "The queue's `run_id` parameter is invalid.",
    )


class QueueCaseIdInvalid(Problem):
    members = QUERY_MEMBERS
    status, code, title = (
        400,
        "ARBITRATION_QUEUE_CASE_ID_INVALID",
        "The queue's `case_id` parameter is invalid.",
    )


class QueueOpenedSinceInvalid(Problem):
    members = QUERY_MEMBERS
    status, code, title = (
        400,
        "ARBITRATION_QUEUE_OPENED_SINCE_INVALID",
        "The queue's `opened_since` parameter is invalid.",
    )


class QueueSlaHoursInvalid(Problem):
    members = QUERY_MEMBERS
    status, code, title = (
        400,
        "ARBITRATION_QUEUE_SLA_HOURS_INVALID",
        "The queue's `sla_hours` parameter is invalid.",
    )


QUEUE_QUERY_PROBLEMS = (
    QueueStatusInvalid,
    QueuePriorityInvalid,
    QueueAssignedInvalid,
    QueueArbiterInvalid,
    QueueRunIdInvalid,
    QueueCaseIdInvalid,
    QueueOpenedSinceInvalid,
    QueueSlaHoursInvalid,
)


class DisputeClosed(Problem):
    status, code, title = (
        409,
        "DISPUTE_CLOSED",
        "The dispute is closed; it takes no more evidence or escalation.",
    )
