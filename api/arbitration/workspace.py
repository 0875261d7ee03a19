"""The case workspace: everything an arbiter or operator needs about one case, in one read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.arbitration.cases import case_out, get_case
from api.arbitration.models import ArbitrationCase, SettlementAdjustment
from api.arbitration.queue import queue_item
from api.arbitration.schemas import (
    Actionability,
    AppealChain,
    QueueItem,
    SettlementOut,
    TimelineEvent,
    WorkspaceEvidence,
    WorkspaceResponse,
)
from api.arbitration.service import (
    adjustment_out,
    dispute_out,
    get_dispute,
    get_settlement,
    load_refs,
    window_is_open,
)
from api.arbitration.states import CaseStatus
from api.tenants.dependencies import Principal
from api.tenants.models import Scope

WRITE_SCOPES = frozenset({Scope.finance_write.value, Scope.ops_write.value})


def _item(case: ArbitrationCase, *, now: datetime, sla_hours: float) -> QueueItem:
    count = len(load_refs(case.evidence_refs))
    return QueueItem(**queue_item(case, case, evidence_count=count, now=now, sla_hours=sla_hours))


def get_workspace(session: Session, *, principal: Principal, case_id: str, sla_hours: float,
                  now: datetime) -> WorkspaceResponse:  # fmt: skip
    tenant_id = principal.tenant_id
    case = get_case(session, tenant_id=tenant_id, case_id=case_id)
    settlement = get_settlement(session, tenant_id=tenant_id, settlement_id=case.settlement_id)
    dispute = get_dispute(session, tenant_id=tenant_id, dispute_id=case.dispute_id)
    siblings = list(session.scalars(
        select(ArbitrationCase)
        .where(ArbitrationCase.tenant_id == tenant_id, ArbitrationCase.run_id == case.run_id,
               ArbitrationCase.dispute_id == case.dispute_id)
        .order_by(ArbitrationCase.opened_at, ArbitrationCase.case_id)
    ))  # fmt: skip
    adjustment = session.scalars(
        select(SettlementAdjustment)
        .where(SettlementAdjustment.tenant_id == tenant_id,
               SettlementAdjustment.settlement_id == settlement.settlement_id)
        .order_by(SettlementAdjustment.adjustment_seq.desc())
    ).first()  # fmt: skip
    window_open = window_is_open(settlement, now)
    settlement_fields = {name: getattr(settlement, name) for name in SettlementOut.model_fields
                         if name not in ("is_dispute_window_open", "adjustment")}  # fmt: skip
    events = [("dispute.opened", dispute.opened_at, None), ("dispute.closed", dispute.closed_at, None),
              ("settlement.resolved", settlement.resolved_at, None),
              ("dispute.window_ends", settlement.dispute_window_ends_at, None)]  # fmt: skip
    for other in siblings:
        events += [("arbitration.opened", other.opened_at, other.case_id),
                   ("arbitration.verdict_issued", other.verdict_issued_at, other.case_id),
                   ("arbitration.closed", other.closed_at, other.case_id)]  # fmt: skip
    timeline = sorted(
        (TimelineEvent(event_type=kind, at=at, case_id=cid) for kind, at, cid in events if at is not None),
        key=lambda event: (event.at, event.event_type, event.case_id or ""),
    )
    case_refs, dispute_refs = load_refs(case.evidence_refs), load_refs(dispute.evidence_refs)
    verdict_refs = load_refs(case.verdict_evidence_refs)
    status = CaseStatus(case.status)
    can_write = not principal.scopes.isdisjoint(WRITE_SCOPES)
    working = status in (CaseStatus.open, CaseStatus.under_review)
    return WorkspaceResponse(
        queue_item=_item(case, now=now, sla_hours=sla_hours),
        arbitration_case=case_out(case),
        dispute=dispute_out(dispute),
        related_cases=[
            _item(other, now=now, sla_hours=sla_hours) for other in siblings if other.case_id != case_id
        ],
        appeal_chain=AppealChain(
            parent_case_id=case.appeal_parent_case_id,
            child_case_ids=[other.case_id for other in siblings if other.appeal_parent_case_id == case_id],
        ),
        settlement=SettlementOut(
            **settlement_fields, is_dispute_window_open=window_open, adjustment=adjustment_out(adjustment)
        ),  # fmt: skip
        evidence_refs=WorkspaceEvidence(
            case=case_refs,
            dispute=dispute_refs,
            verdict=verdict_refs,
            all=sorted({*case_refs, *dispute_refs, *verdict_refs}),
        ),  # fmt: skip
        timeline=timeline,
        actionability=Actionability(
            can_assign_arbiter=can_write and working,
            can_add_evidence=can_write and working,
            can_submit_verdict=can_write and status == CaseStatus.under_review and window_open,
            can_close_case=can_write and status == CaseStatus.verdict_issued,
            can_open_appeal=can_write
            and status in (CaseStatus.verdict_issued, CaseStatus.closed)
            and window_open,
        ),
    )
