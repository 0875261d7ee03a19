"""Request and response bodies of the reconciliation routes (snake_case JSON; `statusCounts` as specified)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.core.pagination import Page, PageQuery
from api.core.schemas import RequestModel
from api.reconciliation.states import Severity, TriageStatus
from settld.vocabulary import MismatchType, SourceType  # seed reconciliation_mismatch_types, every source

TRIAGE_KEY_PATTERN = r"^[A-Za-z0-9_.:\-]{1,128}$"
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
LABEL_PATTERN = r"^[^\x00-\x1f\x7f]{1,128}$"
EXAMPLE_TRIAGE_KEY = "frt_202609_0123456789abcdef01234567"


TriageKey = Annotated[str, Field(pattern=TRIAGE_KEY_PATTERN, examples=[EXAMPLE_TRIAGE_KEY])]
Label = Annotated[str, Field(pattern=LABEL_PATTERN)]
Owner = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]{1,200}$", examples=["ops@acme.example"])]
Text = Annotated[str, Field(min_length=1, max_length=4000)]  # NUL is refused by RequestModel
Period = Annotated[str, Field(pattern=PERIOD_PATTERN, examples=["2026-09"])]


class TriageUpsert(RequestModel):
    """Create or change the triage record of a published mismatch. Absent fields keep their stored value;
    `owner`, `severity`, `notes` and `resolution` are cleared by sending null."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"triage_key": EXAMPLE_TRIAGE_KEY, "status": "acknowledged", "owner": "ops@acme.example"}
            ]
        },
    )

    triage_key: TriageKey
    status: TriageStatus | None = None
    owner: Owner | None = None
    severity: Severity | None = Field(default=None, description="Override of the published severity.")
    notes: Text | None = None
    resolution: Text | None = Field(
        default=None, description="Required when moving to resolved or dismissed."
    )
    action: Literal["reopen"] | None = Field(
        default=None, description="Bring a resolved or dismissed record back to open; needs notes."
    )
    expected_revision: int | None = Field(
        default=None,
        ge=0,
        le=2_147_483_647,
        description="409 REVISION_CONFLICT unless this is the current one.",
    )


class TriageActionOut(BaseModel):
    action_id: str
    revision: int
    action: str
    at: datetime
    actor_key_id: str | None
    prev_status: str | None
    next_status: str
    owner: str | None
    notes: str | None
    request_id: str | None


class TriageSummary(BaseModel):
    tenant_id: str
    triage_key: str
    source_type: str
    period: str
    provider_id: str
    mismatch_type: str
    mismatch_key: str
    mismatch_code: str
    status: TriageStatus
    owner: str | None
    severity: str | None
    notes: str | None
    resolution: str | None
    revision: int
    created_by_key_id: str | None
    updated_by_key_id: str | None
    resolved_by_key_id: str | None
    created_at: datetime
    updated_at: datetime
    opened_at: datetime
    triaged_at: datetime | None
    acknowledged_at: datetime | None
    in_progress_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None


class TriageOut(TriageSummary):
    actions: list[TriageActionOut] = Field(description="Newest first.")


class TriageUpsertResponse(BaseModel):
    ok: bool
    changed: bool
    triage: TriageOut


class MismatchOut(BaseModel):
    tenant_id: str
    triage_key: str
    period: str
    provider_id: str
    mismatch_type: str
    mismatch_key: str
    source_type: str
    mismatch_code: str
    severity: str
    severity_rank: int
    party_id: str | None
    operation_id: str | None
    operation_state: str | None
    operation_count: int
    expected_amount_cents: int | None
    actual_amount_cents: int | None
    amount_delta_cents: int | None
    currency: str
    actual_currency: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    cleared_at: datetime | None
    published_at: datetime
    found_after_close_at: datetime | None = Field(
        description="Set when a publish brought this mismatch while its period was closed; never cleared."
    )


class TriageDetailResponse(BaseModel):
    triage: TriageOut
    mismatch: MismatchOut


class TriageListResponse(Page[TriageSummary]):
    statusCounts: dict[str, int]  # noqa: N815 (name fixed by the API contract)


class QueueItem(MismatchOut):
    status: TriageStatus = Field(description="The triage status; open when there is no triage record yet.")
    effective_severity: str = Field(description="The triage override if any, else the published severity.")
    effective_severity_rank: int
    is_cleared: bool
    is_found_after_close: bool = Field(
        description="Found after its period was closed: the close did not see it (the period stays closed)."
    )
    triage: TriageSummary | None


class QueueResponse(Page[QueueItem]):
    statusCounts: dict[str, int]  # noqa: N815


class QueueSort(StrEnum):
    """The queue's orders; each ends on `triage_key`, and a cursor continues only the order that issued it."""

    severity = "severity"  # effective rank, then oldest first_seen_at (the default)
    oldest = "oldest"  # first_seen_at ascending
    newest = "newest"  # first_seen_at descending
    delta = "delta"  # the largest absolute amount difference first (none counts as 0)


class QueueQuery(PageQuery):
    sort: QueueSort = Field(default=QueueSort.severity, description="severity | oldest | newest | delta")
    period: Period | None = Field(default=None, description="The mismatch's period, YYYY-MM.")
    provider_id: Label | None = Field(default=None, description="The payout rail, or stripe for invoices.")
    mismatch_type: MismatchType | None = None
    source_type: SourceType | None = Field(
        default=None, description="The reconciliation that found it (money rails, billing, GL, escrow)."
    )
    severity: Severity | None = Field(default=None, description="Matches the effective severity.")
    status: TriageStatus | None = Field(default=None, description="The triage status (open when untriaged).")
    owner: Owner | None = Field(default=None, description="The triage record's owner, exactly.")
    include_cleared: bool = Field(default=False, description="Also mismatches gone from the latest publish.")
    found_after_close: bool | None = Field(
        default=None,
        description="true: only mismatches found after their period closed; false: none of them.",
    )


class TriageListQuery(PageQuery):
    period: Period | None = None
    status: TriageStatus | None = None
    provider_id: Label | None = None
