"""Request and response models of the settlement policy routes (snake_case JSON).

Policy documents and references are taken as JSON here and checked by the service, so a broken rule is
POLICY_INVALID (with its field path) and a bad reference INVALID_POLICY_REFERENCE, not a generic 422.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, JsonValue

from api.core.schemas import RequestModel

POLICY_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
RUN_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
Note = Annotated[str, Field(max_length=500)]
Revision = Annotated[int, Field(ge=0, le=2**31 - 1)]


class PolicyVersionIn(RequestModel):
    policy_id: Annotated[str, Field(pattern=POLICY_ID_PATTERN)]
    policy_version: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    description: Note | None = None
    policy: JsonValue = Field(description="SettlementPolicy.v1 {mode, rules {...}}; policy_version optional.")
    verification_method: JsonValue = Field(default=None, description="VerificationMethod.v1 {mode, ...}.")
    metadata: dict[str, JsonValue] | None = None


class PolicyRef(BaseModel):
    policy_id: str
    policy_version: int
    policy_hash: str | None = None


class PolicyVersionOut(BaseModel):
    policy_id: str
    policy_version: int
    policy_hash: str
    verification_method_hash: str
    description: str | None
    policy: dict[str, Any]
    verification_method: dict[str, Any]
    metadata: dict[str, Any]
    created_at: datetime


class PolicyVersionResponse(BaseModel):
    changed: bool
    version: PolicyVersionOut


class PolicyVersionList(BaseModel):
    count: int
    items: list[PolicyVersionOut]


class PresetApply(RequestModel):
    preset_id: Annotated[str, Field(max_length=64)]
    policy_id: Annotated[str, Field(pattern=POLICY_ID_PATTERN)] | None = None


class RolloutMove(RequestModel):
    stage: Annotated[str, Field(max_length=32)]
    policy_ref: JsonValue = None
    rollout_percent: JsonValue = None
    clear: bool = False
    note: Note | None = None
    expected_revision: Revision | None = None


class RollbackIn(RequestModel):
    policy_ref: JsonValue = None
    note: Note | None = None
    expected_revision: Revision | None = None


class ResolveIn(RequestModel):
    run_id: Annotated[str, Field(pattern=RUN_ID_PATTERN)]


class ResolveOut(BaseModel):
    tenant_id: str
    run_id: str
    stage: str
    policy_ref: PolicyRef
    bucket: int
    rollout_revision: int


class CanaryOut(BaseModel):
    policy_ref: PolicyRef | None
    rollout_percent: int


class Stages(BaseModel):
    draft: PolicyRef | None
    canary: CanaryOut
    active: PolicyRef | None


class HistoryEntry(BaseModel):
    rollout_revision: int
    at: datetime
    action: str
    stage: str
    from_policy_ref: PolicyRef | None
    to_policy_ref: PolicyRef | None
    rollout_percent: int | None
    note: str | None
    actor_key_id: str | None


class RolloutState(BaseModel):
    schema_version: str = "TenantSettlementPolicyRollout.v1"
    tenant_id: str
    revision: int
    stages: Stages
    history: list[HistoryEntry]


class RolloutResponse(BaseModel):
    changed: bool
    action: str
    state: RolloutState


class DiffChange(BaseModel):
    path: str
    kind: str
    from_value: Any = None
    to_value: Any = None


class DiffSummary(BaseModel):
    total_paths: int
    changed: int
    added: int
    removed: int
    unchanged: int
    include_unchanged: bool


class DiffOut(BaseModel):
    schema_version: str
    from_policy_ref: PolicyRef
    to_policy_ref: PolicyRef
    summary: DiffSummary
    changes: list[DiffChange]
    limited: bool


REF_TEXT_PATTERN = r"^[A-Za-z0-9._:-]{1,128}@[0-9]{1,9}$"


class DiffQuery(RequestModel):
    from_: str | None = Field(default=None, alias="from", pattern=REF_TEXT_PATTERN,
                              description="`<policy_id>@<version>`, or the from_policy_* pair.")  # fmt: skip
    to: str | None = Field(default=None, pattern=REF_TEXT_PATTERN,
                           description="`<policy_id>@<version>`, or the to_policy_* pair.")  # fmt: skip
    from_policy_id: Annotated[str, Field(pattern=POLICY_ID_PATTERN)] | None = None
    from_policy_version: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    to_policy_id: Annotated[str, Field(pattern=POLICY_ID_PATTERN)] | None = None
    to_policy_version: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    include_unchanged: bool = False
    limit: Annotated[int, Field(ge=1, le=2000)] = 200
