"""Arbitration cases: open (explicit arbiter or deterministic panel draw), assign, evidence, verdict,
close (which moves the money) and appeal. Every action bumps `revision`, appends the case as it now
stands to `arbitration_case_revisions` and writes the audit log, in the request's one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.arbitration import problems
from api.arbitration.models import ArbitrationCase, ArbitrationCaseRevision, Dispute, SettlementAdjustment
from api.arbitration.schemas import (
    AppealRef,
    Assignment,
    CaseAppeal,
    CaseAssign,
    CaseClose,
    CaseEvidence,
    CaseOpen,
    CaseOut,
    CaseVerdict,
    VerdictOut,
)
from api.arbitration.service import (
    assert_window_open,
    dump_refs,
    get_dispute,
    get_settlement,
    load_refs,
    open_dispute_of,
    write_adjustment,
)
from api.arbitration.states import CASE, ESCALATION, CaseStatus, DisputeStatus, EscalationLevel
from api.audit.service import append_audit
from api.billing.limits import meter_billable_work
from api.core.revisions import check_revision, flush_or_conflict
from api.core.states import TransitionIllegal
from api.tenants.dependencies import Principal
from settld.core import canonical_hash


@dataclass(frozen=True)
class CaseOutcome:
    changed: bool
    case: ArbitrationCase
    adjustment: SettlementAdjustment | None = None


def panel_assignment(
    *, tenant_id: str, run_id: str, dispute_id: str, candidates: list[str]
) -> tuple[str, str, list[str]]:
    """The reference's deterministic draw: sorted unique candidates, assignmentHash = sha256(canonical(
    {tenantId, runId, disputeId, panelCandidateAgentIds})), arbiter = candidates[int(hash[:8], 16) mod n]."""
    panel = sorted(set(candidates))
    assignment_hash = canonical_hash(
        {"tenantId": tenant_id, "runId": run_id, "disputeId": dispute_id, "panelCandidateAgentIds": panel}
    )
    return panel[int(assignment_hash[:8], 16) % len(panel)], assignment_hash, panel


def _assign(case: ArbitrationCase, request: Assignment, *, required: bool) -> bool:
    """Set the arbiter from the request; False when the request names none (and none is required)."""
    explicit, panel = request.arbiter_agent_id, request.panel_candidate_agent_ids
    if (explicit is not None and panel) or (required and explicit is None and not panel):
        raise problems.ArbiterRequired()
    if explicit is not None:
        case.arbiter_agent_id, case.assignment_hash, case.panel_candidate_agent_ids = explicit, None, None
        return True
    if panel:
        arbiter, assignment_hash, candidates = panel_assignment(
            tenant_id=case.tenant_id, run_id=case.run_id, dispute_id=case.dispute_id, candidates=panel
        )
        case.arbiter_agent_id, case.assignment_hash = arbiter, assignment_hash
        case.panel_candidate_agent_ids = dump_refs(candidates)
        return True
    return False


def case_out(case: ArbitrationCase) -> CaseOut:
    verdict = None
    if case.verdict_id is not None:
        verdict = VerdictOut(
            verdict_id=case.verdict_id, verdict_hash=case.verdict_hash, outcome=case.verdict_outcome,
            release_rate_pct=case.verdict_release_rate_pct, rationale=case.verdict_rationale,
            evidence_refs=load_refs(case.verdict_evidence_refs), issued_at=case.verdict_issued_at,
        )  # fmt: skip
    appeal = None
    if case.appeal_parent_case_id is not None:
        appeal = AppealRef(parent_case_id=case.appeal_parent_case_id,
                           parent_verdict_id=case.appeal_parent_verdict_id, reason=case.appeal_reason)  # fmt: skip
    plain = {name: getattr(case, name) for name in CaseOut.model_fields
             if name not in ("evidence_refs", "appeal_ref", "panel_candidate_agent_ids", "verdict")}  # fmt: skip
    panel = load_refs(case.panel_candidate_agent_ids) if case.panel_candidate_agent_ids else None
    return CaseOut(**plain, evidence_refs=load_refs(case.evidence_refs), appeal_ref=appeal,
                   panel_candidate_agent_ids=panel, verdict=verdict)  # fmt: skip


def _record(session: Session, principal: Principal, case: ArbitrationCase, action: str, now: datetime,
            prev_status: str | None) -> None:  # fmt: skip
    """The case as it now stands, appended to the revisions, and the audit row."""
    session.add(
        ArbitrationCaseRevision(
            tenant_id=case.tenant_id, case_id=case.case_id, revision=case.revision, action=action,
            run_id=case.run_id, settlement_id=case.settlement_id, dispute_id=case.dispute_id,
            arbiter_agent_id=case.arbiter_agent_id, priority=case.priority, status=case.status,
            summary=case.summary, evidence_count=len(load_refs(case.evidence_refs)),
            appeal_parent_case_id=case.appeal_parent_case_id, verdict_outcome=case.verdict_outcome,
            verdict_release_rate_pct=case.verdict_release_rate_pct, verdict_issued_at=case.verdict_issued_at,
            opened_at=case.opened_at, closed_at=case.closed_at,
            case_hash=canonical_hash(case_out(case).model_dump(mode="json")),
            actor_key_id=principal.key_id, request_id=principal.request_id, at=now,
        )
    )  # fmt: skip
    flush_or_conflict(session, case.revision - 1, "case")
    append_audit(session, context=principal.audit_context, action=f"ARBITRATION_CASE_{action.upper()}",
                 target_type="arbitration_case", target_id=case.case_id,
                 details={"revision": case.revision, "prev_status": prev_status, "status": case.status,
                          "arbiter_agent_id": case.arbiter_agent_id}, at=now)  # fmt: skip


def get_case(session: Session, *, tenant_id: str, case_id: str, lock: bool = False) -> ArbitrationCase:
    query = select(ArbitrationCase).where(
        ArbitrationCase.tenant_id == tenant_id, ArbitrationCase.case_id == case_id
    )
    case = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if case is None:
        raise problems.CaseNotFound(f"No arbitration case {case_id!r} for this tenant.")
    return case


def _new_case(session: Session, principal: Principal, dispute: Dispute, case_id: str | None, now: datetime,
              **fields: object) -> ArbitrationCase:  # fmt: skip
    settlement = get_settlement(session, tenant_id=principal.tenant_id, settlement_id=dispute.settlement_id)
    if case_id is None:  # deterministic: the dispute and how many cases it has had
        n = session.scalar(select(func.count()).select_from(ArbitrationCase).where(
            ArbitrationCase.tenant_id == principal.tenant_id, ArbitrationCase.dispute_id == dispute.dispute_id))  # fmt: skip
        case_id = "arb_case_" + canonical_hash([principal.tenant_id, dispute.dispute_id, n])[:20]
    if session.get(ArbitrationCase, (principal.tenant_id, case_id)) is not None:
        raise problems.CaseIdTaken(f"Arbitration case {case_id!r} exists already.")
    return ArbitrationCase(
        tenant_id=principal.tenant_id, case_id=case_id, run_id=dispute.run_id, settlement_id=dispute.settlement_id,
        dispute_id=dispute.dispute_id, claimant_agent_id=dispute.opened_by_agent_id or settlement.payer_agent_id,
        respondent_agent_id=settlement.payee_agent_id, status=CaseStatus.open.value, opened_at=now, revision=1,
        created_at=now, updated_at=now, **fields,
    )  # fmt: skip


def _evidence_within(refs: list[str], allowed: list[str], what: str) -> None:
    if unknown := sorted(set(refs) - set(allowed)):
        raise problems.EvidenceOutsideDispute(
            f"Not among the {what}'s evidence refs: {', '.join(unknown)}.", unknown_evidence_refs=unknown
        )


def open_case(session: Session, *, principal: Principal, request: CaseOpen, now: datetime) -> CaseOutcome:
    tenant_id = principal.tenant_id
    get_settlement(session, tenant_id=tenant_id, settlement_id=request.settlement_id, lock=True)
    if request.dispute_id is not None:
        dispute = get_dispute(session, tenant_id=tenant_id, dispute_id=request.dispute_id,
                              settlement_id=request.settlement_id)  # fmt: skip
    elif (
        found := open_dispute_of(session, tenant_id=tenant_id, settlement_id=request.settlement_id)
    ) is None:
        raise problems.DisputeNotFound("The settlement has no open dispute to arbitrate.")
    else:
        dispute = found
    if dispute.status != DisputeStatus.open.value:
        raise TransitionIllegal(
            "Only an open dispute goes to arbitration.",
            from_status=dispute.status,
            to_status="arbitration",
            allowed=[],
        )
    _evidence_within(request.evidence_refs, load_refs(dispute.evidence_refs), "dispute")
    case = _new_case(session, principal, dispute, request.case_id, now,
                     priority=(request.priority.value if request.priority else dispute.priority),
                     summary=request.summary, evidence_refs=dump_refs(request.evidence_refs))  # fmt: skip
    if _assign(case, request, required=False):
        case.status = CaseStatus.under_review.value
    session.add(case)
    meter_billable_work(session, tenant_id=tenant_id, usage_type="arbitration_cases", quantity=1,
                        source_ref=case.case_id, now=now, actor_key_id=principal.key_id,
                        request_id=principal.request_id)  # fmt: skip
    _record(session, principal, case, "open", now, None)
    return CaseOutcome(True, case)


def _changing_case(
    session: Session, principal: Principal, case_id: str, expected: int | None
) -> ArbitrationCase:
    case = get_case(session, tenant_id=principal.tenant_id, case_id=case_id, lock=True)
    check_revision(case.revision, expected, "case")
    return case


def _move(case: ArbitrationCase, target: CaseStatus, now: datetime, *, stay: bool = False) -> None:
    """Bump the revision and move to `target` (staying put only where the action allows it)."""
    current = CaseStatus(case.status)
    if current != target or not stay:
        CASE.assert_transition(current, target, hint="A case never goes back.")
        case.status = target.value
    case.revision += 1
    case.updated_at = now


def assign_case(
    session: Session, *, principal: Principal, case_id: str, request: CaseAssign, now: datetime
) -> CaseOutcome:
    case = _changing_case(session, principal, case_id, request.expected_revision)
    current = CaseStatus(case.status)
    if current not in (CaseStatus.open, CaseStatus.under_review):
        raise CASE.illegal(
            current, CaseStatus.under_review, hint="Only an open or under_review case is assigned."
        )
    _assign(case, request, required=True)
    _move(case, CaseStatus.under_review, now, stay=True)
    _record(session, principal, case, "assign", now, current.value)
    return CaseOutcome(True, case)


def add_case_evidence(session: Session, *, principal: Principal, case_id: str, request: CaseEvidence,
                      now: datetime) -> CaseOutcome:  # fmt: skip
    case = _changing_case(session, principal, case_id, request.expected_revision)
    current = CaseStatus(case.status)
    if current not in (CaseStatus.open, CaseStatus.under_review):
        raise CASE.illegal(current, CaseStatus.under_review, hint="Evidence is filed before the verdict.")
    dispute = get_dispute(session, tenant_id=principal.tenant_id, dispute_id=case.dispute_id)
    _evidence_within(request.evidence_refs, load_refs(dispute.evidence_refs), "dispute")
    refs = load_refs(case.evidence_refs)
    if set(request.evidence_refs) <= set(refs):
        return CaseOutcome(False, case)
    case.evidence_refs = dump_refs([*refs, *request.evidence_refs])
    _move(case, CaseStatus.under_review if case.arbiter_agent_id else current, now, stay=True)
    _record(session, principal, case, "evidence", now, current.value)
    return CaseOutcome(True, case)


def issue_verdict(session: Session, *, principal: Principal, case_id: str, request: CaseVerdict,
                  now: datetime) -> CaseOutcome:  # fmt: skip
    case = _changing_case(session, principal, case_id, request.expected_revision)
    current = CaseStatus(case.status)
    if current != CaseStatus.under_review:
        raise CASE.illegal(current, CaseStatus.verdict_issued, hint="A verdict needs a case under review.")
    settlement = get_settlement(session, tenant_id=principal.tenant_id, settlement_id=case.settlement_id)
    issued_at = request.issued_at or now
    if issued_at > now or issued_at < case.opened_at:
        raise problems.VerdictIssuedAtInvalid()
    assert_window_open(settlement, now)
    assert_window_open(settlement, issued_at)
    _evidence_within(request.evidence_refs, load_refs(case.evidence_refs), "case")
    verdict_id = request.verdict_id or f"vrd_{case.case_id}"
    document = {"caseId": case.case_id, "verdictId": verdict_id, "arbiterAgentId": case.arbiter_agent_id,
                "outcome": request.outcome.value, "releaseRatePct": request.release_rate_pct,
                "rationale": request.rationale, "evidenceRefs": sorted(set(request.evidence_refs)),
                "issuedAt": issued_at.isoformat()}  # fmt: skip
    case.verdict_id, case.verdict_hash = verdict_id, canonical_hash(document)
    case.verdict_outcome, case.verdict_release_rate_pct = request.outcome.value, request.release_rate_pct
    case.verdict_rationale, case.verdict_issued_at = request.rationale, issued_at
    case.verdict_evidence_refs = dump_refs(request.evidence_refs)
    case.summary = request.rationale
    _move(case, CaseStatus.verdict_issued, now)
    _record(session, principal, case, "verdict", now, current.value)
    return CaseOutcome(True, case)


def close_case(
    session: Session, *, principal: Principal, case_id: str, request: CaseClose, now: datetime
) -> CaseOutcome:
    """Close a case with a verdict: the dispute takes the verdict (closed at l2_arbiter if it was open; an
    appeal's verdict replaces the closed dispute's resolution), and the settlement is adjusted to its rate."""
    case = _changing_case(session, principal, case_id, request.expected_revision)
    current = CaseStatus(case.status)
    _move(case, CaseStatus.closed, now)
    case.closed_at = now
    if request.summary is not None:
        case.summary = request.summary
    dispute = get_dispute(session, tenant_id=principal.tenant_id, dispute_id=case.dispute_id, lock=True)
    if dispute.status == DisputeStatus.open.value:
        dispute.status, dispute.closed_at = DisputeStatus.closed.value, now
        if ESCALATION.can(EscalationLevel(dispute.escalation_level), EscalationLevel.l2_arbiter):
            dispute.escalation_level = EscalationLevel.l2_arbiter.value
    dispute.outcome, dispute.release_rate_pct = case.verdict_outcome, case.verdict_release_rate_pct
    dispute.closed_by_agent_id, dispute.verdict_id = case.arbiter_agent_id, case.verdict_id
    dispute.summary = case.summary
    dispute.revision += 1
    dispute.updated_at = now
    settlement = get_settlement(session, tenant_id=principal.tenant_id, settlement_id=case.settlement_id)
    adjustment = write_adjustment(session, settlement=settlement, dispute=dispute, outcome=case.verdict_outcome,
                                  release_rate_pct=case.verdict_release_rate_pct, now=now, case=case)  # fmt: skip
    _record(session, principal, case, "close", now, current.value)
    return CaseOutcome(True, case, adjustment)


def appeal_case(
    session: Session, *, principal: Principal, case_id: str, request: CaseAppeal, now: datetime
) -> CaseOutcome:
    parent = get_case(session, tenant_id=principal.tenant_id, case_id=case_id, lock=True)
    if (
        CaseStatus(parent.status) not in (CaseStatus.verdict_issued, CaseStatus.closed)
        or parent.verdict_id is None
    ):
        raise problems.AppealParentInvalid(f"Case {case_id} is {parent.status}.")
    settlement = get_settlement(session, tenant_id=principal.tenant_id, settlement_id=parent.settlement_id)
    assert_window_open(settlement, now)
    dispute = get_dispute(session, tenant_id=principal.tenant_id, dispute_id=parent.dispute_id)
    child = _new_case(session, principal, dispute, request.case_id, now, priority=parent.priority,
                      summary=request.reason, evidence_refs=parent.evidence_refs,
                      appeal_parent_case_id=parent.case_id, appeal_parent_verdict_id=parent.verdict_id,
                      appeal_reason=request.reason)  # fmt: skip
    if _assign(child, request, required=False):
        child.status = CaseStatus.under_review.value
    session.add(child)
    _record(session, principal, child, "appeal", now, None)
    return CaseOutcome(True, child)
