"""Disputes of published settlements, and what disputes and cases share: lookups, revision checks, ref
lists, the dispute window and the settlement adjustment. One transaction per request, never committed here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.arbitration import problems
from api.arbitration.models import ArbitrationCase, Dispute, PublishedSettlement, SettlementAdjustment
from api.arbitration.schemas import (
    AdjustmentOut,
    DisputeClose,
    DisputeEscalate,
    DisputeEvidence,
    DisputeOpen,
    DisputeOut,
)
from api.arbitration.states import (
    DISPUTE,
    ESCALATION,
    RESOLVED_SETTLEMENT,
    CaseStatus,
    DisputeStatus,
    EscalationLevel,
    SettlementStatus,
)
from api.audit.service import append_audit
from api.core.revisions import check_revision, flush_or_conflict
from api.core.states import TransitionIllegal
from api.policies.evaluate import split
from api.tenants.dependencies import Principal
from settld.core import canonical_hash, canonical_json


@dataclass(frozen=True)
class DisputeOutcome:
    changed: bool
    dispute: Dispute
    adjustment: SettlementAdjustment | None = None


def load_refs(text: str | None) -> list[str]:
    return list(json.loads(text)) if text else []


def dump_refs(refs: Iterable[str]) -> str:
    """Refs as stored: sorted and unique, canonical JSON (so equal sets compare equal)."""
    return canonical_json(sorted(set(refs)))


def get_settlement(
    session: Session, *, tenant_id: str, settlement_id: str, lock: bool = False
) -> PublishedSettlement:
    query = select(PublishedSettlement).where(
        PublishedSettlement.tenant_id == tenant_id, PublishedSettlement.settlement_id == settlement_id
    )
    settlement = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if settlement is None:
        raise problems.SettlementNotFound(f"No published settlement {settlement_id!r} for this tenant.")
    return settlement


def get_dispute(
    session: Session, *, tenant_id: str, dispute_id: str, settlement_id: str | None = None, lock: bool = False
) -> Dispute:
    query = select(Dispute).where(Dispute.tenant_id == tenant_id, Dispute.dispute_id == dispute_id)
    dispute = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if dispute is None or (settlement_id is not None and dispute.settlement_id != settlement_id):
        raise problems.DisputeNotFound(f"No dispute {dispute_id!r} on this settlement for this tenant.")
    return dispute


def open_dispute_of(session: Session, *, tenant_id: str, settlement_id: str) -> Dispute | None:
    return session.scalars(
        select(Dispute).where(
            Dispute.tenant_id == tenant_id,
            Dispute.settlement_id == settlement_id,
            Dispute.status == DisputeStatus.open.value,
        )
    ).first()


def window_is_open(settlement: PublishedSettlement, at: datetime) -> bool:
    ends = settlement.dispute_window_ends_at
    return ends is not None and at <= ends


def assert_window_open(settlement: PublishedSettlement, at: datetime) -> None:
    if not window_is_open(settlement, at):
        ends = settlement.dispute_window_ends_at
        raise problems.DisputeWindowExpired(
            f"The dispute window of {settlement.settlement_id} ended at {ends}.",
            dispute_window_ends_at=ends.isoformat() if ends else None,
        )


def dispute_out(dispute: Dispute) -> DisputeOut:
    fields = {name: getattr(dispute, name) for name in DisputeOut.model_fields if name != "evidence_refs"}
    return DisputeOut(**fields, evidence_refs=load_refs(dispute.evidence_refs))


def adjustment_out(adjustment: SettlementAdjustment | None) -> AdjustmentOut | None:
    return None if adjustment is None else AdjustmentOut.model_validate(adjustment, from_attributes=True)


def write_adjustment(
    session: Session,
    *,
    settlement: PublishedSettlement,
    dispute: Dispute,
    outcome: str,
    release_rate_pct: int,
    now: datetime,
    case: ArbitrationCase | None = None,
) -> SettlementAdjustment:
    """The money a resolution moves: release = floor(amount * rate / 100), refund = the rest (integers)."""
    amount = settlement.amount_cents
    released, refunded = split(amount, release_rate_pct)  # the policies' rounding (api/policies/evaluate.py)
    get_settlement(session, tenant_id=settlement.tenant_id, settlement_id=settlement.settlement_id, lock=True)
    previous = session.scalar(
        select(func.max(SettlementAdjustment.adjustment_seq)).where(
            SettlementAdjustment.tenant_id == settlement.tenant_id,
            SettlementAdjustment.settlement_id == settlement.settlement_id,
        )
    )
    source = case.case_id if case is not None else f"dispute:{dispute.dispute_id}"
    adjustment = SettlementAdjustment(
        tenant_id=settlement.tenant_id,
        adjustment_id="adj_" + canonical_hash([settlement.tenant_id, settlement.settlement_id, source])[:24],
        settlement_id=settlement.settlement_id,
        adjustment_seq=(previous or 0) + 1,
        run_id=settlement.run_id,
        dispute_id=dispute.dispute_id,
        case_id=case.case_id if case is not None else None,
        verdict_id=case.verdict_id if case is not None else None,
        outcome=outcome,
        release_rate_pct=release_rate_pct,
        amount_cents=amount,
        released_amount_cents=released,
        refunded_amount_cents=refunded,
        currency=settlement.currency,
        created_at=now,
    )
    session.add(adjustment)
    return adjustment


def _audit(session: Session, principal: Principal, action: str, dispute: Dispute, details: dict[str, Any],
           now: datetime) -> None:  # fmt: skip
    append_audit(session, context=principal.audit_context, action=action, target_type="dispute",
                 target_id=dispute.dispute_id, details={"revision": dispute.revision, **details}, at=now)  # fmt: skip


def open_dispute(
    session: Session, *, principal: Principal, settlement_id: str, request: DisputeOpen, now: datetime
) -> DisputeOutcome:
    tenant_id = principal.tenant_id
    settlement = get_settlement(session, tenant_id=tenant_id, settlement_id=settlement_id, lock=True)
    if SettlementStatus(settlement.status) not in RESOLVED_SETTLEMENT:
        raise TransitionIllegal(
            "Cannot dispute a settlement before its resolution.",
            from_status=settlement.status, to_status="disputed", allowed=[],
        )  # fmt: skip
    if (already := open_dispute_of(session, tenant_id=tenant_id, settlement_id=settlement_id)) is not None:
        raise problems.DisputeAlreadyOpen(
            f"Dispute {already.dispute_id} is open.", dispute_id=already.dispute_id
        )
    assert_window_open(settlement, now)
    dispute_id = request.dispute_id or f"dsp_{settlement.run_id}"
    if session.get(Dispute, (tenant_id, dispute_id)) is not None:
        raise problems.DisputeIdTaken(f"Dispute {dispute_id!r} exists already (send another dispute_id).")
    dispute = Dispute(
        tenant_id=tenant_id, dispute_id=dispute_id, settlement_id=settlement_id, run_id=settlement.run_id,
        status=DisputeStatus.open.value, priority=request.priority.value, channel=request.channel.value,
        escalation_level=request.escalation_level.value, reason=request.reason,
        opened_by_agent_id=request.opened_by_agent_id or settlement.payer_agent_id,
        evidence_refs=dump_refs(request.evidence_refs), opened_at=now, revision=1, updated_at=now,
    )  # fmt: skip
    session.add(dispute)
    flush_or_conflict(session, 0, "dispute")
    _audit(session, principal, "DISPUTE_OPEN", dispute, {"settlement_id": settlement_id}, now)
    return DisputeOutcome(True, dispute)


def _changing_dispute(
    session: Session, principal: Principal, settlement_id: str, dispute_id: str, expected: int | None
) -> Dispute:
    dispute = get_dispute(
        session, tenant_id=principal.tenant_id, dispute_id=dispute_id, settlement_id=settlement_id, lock=True
    )
    check_revision(dispute.revision, expected, "dispute")
    return dispute


def _bump(dispute: Dispute, now: datetime) -> None:
    dispute.revision += 1
    dispute.updated_at = now


def add_dispute_evidence(
    session: Session, *, principal: Principal, settlement_id: str, dispute_id: str, request: DisputeEvidence,
    now: datetime,
) -> DisputeOutcome:  # fmt: skip
    dispute = _changing_dispute(session, principal, settlement_id, dispute_id, request.expected_revision)
    if dispute.status != DisputeStatus.open.value:
        raise problems.DisputeClosed()
    refs = load_refs(dispute.evidence_refs)
    added = sorted(set(request.evidence_refs) - set(refs))
    if not added:
        return DisputeOutcome(False, dispute)
    dispute.evidence_refs = dump_refs([*refs, *added])
    _bump(dispute, now)
    flush_or_conflict(session, dispute.revision - 1, "dispute")
    _audit(session, principal, "DISPUTE_EVIDENCE", dispute, {"added": added}, now)
    return DisputeOutcome(True, dispute)


def escalate_dispute(
    session: Session, *, principal: Principal, settlement_id: str, dispute_id: str, request: DisputeEscalate,
    now: datetime,
) -> DisputeOutcome:  # fmt: skip
    dispute = _changing_dispute(session, principal, settlement_id, dispute_id, request.expected_revision)
    if dispute.status != DisputeStatus.open.value:
        raise problems.DisputeClosed()
    current = EscalationLevel(dispute.escalation_level)
    if request.escalation_level == current:
        return DisputeOutcome(False, dispute)
    ESCALATION.assert_transition(current, request.escalation_level, hint="Escalation only goes up.")
    dispute.escalation_level = request.escalation_level.value
    _bump(dispute, now)
    flush_or_conflict(session, dispute.revision - 1, "dispute")
    _audit(session, principal, "DISPUTE_ESCALATE", dispute,
           {"from": current.value, "to": request.escalation_level.value}, now)  # fmt: skip
    return DisputeOutcome(True, dispute)


def close_dispute(
    session: Session, *, principal: Principal, settlement_id: str, dispute_id: str, request: DisputeClose,
    now: datetime,
) -> DisputeOutcome:  # fmt: skip
    """Close without arbitration (the parties settled); refused while a case on it has no verdict closed."""
    dispute = _changing_dispute(session, principal, settlement_id, dispute_id, request.expected_revision)
    DISPUTE.assert_transition(DisputeStatus(dispute.status), DisputeStatus.closed)
    active = session.scalars(
        select(ArbitrationCase.case_id)
        .where(
            ArbitrationCase.tenant_id == principal.tenant_id,
            ArbitrationCase.dispute_id == dispute_id,
            ArbitrationCase.status != CaseStatus.closed.value,
        )
        .order_by(ArbitrationCase.case_id)
    ).all()
    if active:
        raise problems.DisputeHasActiveCase(case_ids=list(active))
    settlement = get_settlement(session, tenant_id=principal.tenant_id, settlement_id=settlement_id)
    dispute.status = DisputeStatus.closed.value
    dispute.outcome = request.outcome.value
    dispute.release_rate_pct = request.release_rate_pct
    dispute.summary = request.summary
    dispute.closed_by_agent_id = request.closed_by_agent_id
    dispute.closed_at = now
    _bump(dispute, now)
    adjustment = None
    if request.release_rate_pct is not None:
        adjustment = write_adjustment(session, settlement=settlement, dispute=dispute,
                                      outcome=request.outcome.value, release_rate_pct=request.release_rate_pct,
                                      now=now)  # fmt: skip
    flush_or_conflict(session, dispute.revision - 1, "dispute")
    _audit(session, principal, "DISPUTE_CLOSE", dispute,
           {"outcome": dispute.outcome, "release_rate_pct": dispute.release_rate_pct}, now)  # fmt: skip
    return DisputeOutcome(True, dispute, adjustment)
