"""Request and response models of disputes and arbitration cases (snake_case JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from api.arbitration.states import CaseStatus, Channel, DisputeStatus, EscalationLevel, Outcome, Priority
from api.core.schemas import RequestModel

ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"
Identifier = Annotated[str, Field(pattern=ID_PATTERN)]
EvidenceRef = Annotated[str, Field(min_length=1, max_length=256)]
Text = Annotated[str, Field(max_length=4000)]
Rate = Annotated[int, Field(ge=0, le=100, description="Share of the amount released to the payee, percent.")]
Revision = Annotated[int | None, Field(default=None, ge=0, description="Alternative to If-Match.")]


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("a timestamp must carry its UTC offset")
    return value


AwareDateTime = Annotated[datetime, AfterValidator(_aware)]


class DisputeOpen(RequestModel):
    dispute_id: Identifier | None = Field(default=None, description="Default `dsp_<run_id>`.")
    reason: Text | None = None
    priority: Priority = Priority.normal
    channel: Channel = Channel.counterparty
    escalation_level: EscalationLevel = EscalationLevel.l1_counterparty
    opened_by_agent_id: Identifier | None = None
    evidence_refs: list[EvidenceRef] = Field(default_factory=list, max_length=200)


class DisputeEvidence(RequestModel):
    evidence_refs: list[EvidenceRef] = Field(min_length=1, max_length=200)
    expected_revision: Revision = None


class DisputeEscalate(RequestModel):
    escalation_level: EscalationLevel
    expected_revision: Revision = None


class DisputeClose(RequestModel):
    outcome: Outcome
    release_rate_pct: Rate | None = Field(
        default=None, description="When sent, the settlement is adjusted to it (as a case's verdict does)."
    )
    summary: Text | None = None
    closed_by_agent_id: Identifier | None = None
    expected_revision: Revision = None


class DisputeOut(BaseModel):
    dispute_id: str
    tenant_id: str
    settlement_id: str
    run_id: str
    status: DisputeStatus
    priority: Priority
    channel: Channel
    escalation_level: EscalationLevel
    reason: str | None
    opened_by_agent_id: str | None
    evidence_refs: list[str]
    outcome: Outcome | None
    release_rate_pct: int | None
    summary: str | None
    closed_by_agent_id: str | None
    verdict_id: str | None
    opened_at: datetime
    closed_at: datetime | None
    revision: int
    updated_at: datetime


class Assignment(RequestModel):
    arbiter_agent_id: Identifier | None = None
    panel_candidate_agent_ids: list[Identifier] | None = Field(default=None, max_length=100)


class CaseOpen(Assignment):
    case_id: Identifier | None = Field(default=None, description="Default derived from the dispute.")
    settlement_id: Identifier
    dispute_id: Identifier | None = Field(default=None, description="Default: the settlement's open dispute.")
    priority: Priority | None = Field(default=None, description="Default: the dispute's priority.")
    summary: Text | None = None
    evidence_refs: list[EvidenceRef] = Field(default_factory=list, max_length=200)


class CaseAssign(Assignment):
    expected_revision: Revision = None


class CaseEvidence(RequestModel):
    evidence_refs: list[EvidenceRef] = Field(min_length=1, max_length=200)
    expected_revision: Revision = None


class CaseVerdict(RequestModel):
    verdict_id: Identifier | None = Field(default=None, description="Default `vrd_<case_id>`.")
    outcome: Outcome
    release_rate_pct: Rate
    rationale: Annotated[str, Field(min_length=1, max_length=4000)]
    evidence_refs: list[EvidenceRef] = Field(default_factory=list, max_length=200)
    issued_at: AwareDateTime | None = Field(default=None, description="Default: now.")
    expected_revision: Revision = None


class CaseClose(RequestModel):
    summary: Text | None = None
    expected_revision: Revision = None


class CaseAppeal(Assignment):
    case_id: Identifier | None = Field(default=None, description="The appeal case's id (default derived).")
    reason: Annotated[str, Field(min_length=1, max_length=4000)]


class AppealRef(BaseModel):
    parent_case_id: str
    parent_verdict_id: str | None
    reason: str | None


class VerdictOut(BaseModel):
    verdict_id: str
    verdict_hash: str
    outcome: Outcome
    release_rate_pct: int
    rationale: str | None
    evidence_refs: list[str]
    issued_at: datetime


class CaseOut(BaseModel):
    case_id: str
    tenant_id: str
    run_id: str
    settlement_id: str
    dispute_id: str
    claimant_agent_id: str | None
    respondent_agent_id: str | None
    arbiter_agent_id: str | None
    priority: Priority
    status: CaseStatus
    summary: str | None
    evidence_refs: list[str]
    appeal_ref: AppealRef | None
    assignment_hash: str | None
    panel_candidate_agent_ids: list[str] | None
    verdict: VerdictOut | None
    opened_at: datetime
    closed_at: datetime | None
    revision: int
    created_at: datetime
    updated_at: datetime


class AdjustmentOut(BaseModel):
    adjustment_id: str
    settlement_id: str
    adjustment_seq: int
    case_id: str | None
    dispute_id: str
    verdict_id: str | None
    outcome: Outcome
    release_rate_pct: int
    amount_cents: int
    released_amount_cents: int
    refunded_amount_cents: int
    currency: str
    created_at: datetime


class DisputeResponse(BaseModel):
    changed: bool
    dispute: DisputeOut
    adjustment: AdjustmentOut | None = None


class CaseResponse(BaseModel):
    changed: bool
    case: CaseOut
    adjustment: AdjustmentOut | None = None


class QueueItem(BaseModel):
    case_id: str
    run_id: str
    dispute_id: str
    settlement_id: str
    priority: Priority
    status: CaseStatus
    arbiter_agent_id: str | None
    opened_at: datetime
    closed_at: datetime | None
    age_seconds: int
    age_hours: float
    sla_hours: float
    due_at: datetime
    over_sla: bool = Field(description="Not closed and past due_at (verdict_issued still counts).")
    summary: str | None
    evidence_count: int
    appeal_ref: AppealRef | None
    revision: int
    updated_at: datetime


class QueueResponse(BaseModel):
    tenant_id: str
    as_of: datetime = Field(description="The snapshot's instant: ages and over_sla are measured at it.")
    filters: dict[str, str | float | bool | None]
    count: int
    limit: int
    next_cursor: str | None
    over_sla_count: int
    status_counts: dict[str, int] = Field(description="Over every filter but status; keys sorted.")
    queue: list[QueueItem]


class SettlementOut(BaseModel):
    settlement_id: str
    run_id: str
    payer_agent_id: str
    payee_agent_id: str
    status: str
    policy_id: str | None
    policy_version: int | None
    policy_hash: str | None
    amount_cents: int
    released_amount_cents: int
    refunded_amount_cents: int
    currency: str
    resolved_at: datetime | None
    dispute_window_ends_at: datetime | None
    is_dispute_window_open: bool
    adjustment: AdjustmentOut | None = Field(description="The latest adjustment a resolution wrote, if any.")


class AppealChain(BaseModel):
    parent_case_id: str | None
    child_case_ids: list[str]


class WorkspaceEvidence(BaseModel):
    case: list[str]
    dispute: list[str]
    verdict: list[str]
    all: list[str]


class TimelineEvent(BaseModel):
    event_type: str
    at: datetime
    case_id: str | None = None


class Actionability(BaseModel):
    can_assign_arbiter: bool
    can_add_evidence: bool
    can_submit_verdict: bool
    can_close_case: bool
    can_open_appeal: bool


class WorkspaceResponse(BaseModel):
    queue_item: QueueItem
    arbitration_case: CaseOut
    dispute: DisputeOut
    related_cases: list[QueueItem]
    appeal_chain: AppealChain
    settlement: SettlementOut
    evidence_refs: WorkspaceEvidence
    timeline: list[TimelineEvent]
    actionability: Actionability
