"""HTTP layer of settlement policies: `/v1/tenants/{tenant_id}/settlement-policies`.

Reads take finance_read, finance_write or ops_read; writes finance_write or ops_write. Every write takes
Idempotency-Key; the rollout moves honour If-Match (or `expected_revision`) on the rollout's revision.
Another tenant's policies are a 404, as for a tenant that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.encoders import jsonable_encoder

from api.core.dependencies import NowDep, SessionDep, WriteSessionDep
from api.core.errors import problem_responses
from api.core.revisions import IfMatch, IfMatchInvalid, RevisionAmbiguous, RevisionConflict, expected_revision
from api.idempotency.dependencies import IdempotencyDep, idempotent
from api.idempotency.problems import IDEMPOTENCY_PROBLEMS
from api.onboarding.router import own_tenant
from api.policies import problems, rollout, service, views
from api.policies.document import PRESETS
from api.policies.schemas import (
    POLICY_ID_PATTERN,
    DiffOut,
    DiffQuery,
    PolicyVersionIn,
    PolicyVersionList,
    PolicyVersionOut,
    PolicyVersionResponse,
    PresetApply,
    ResolveIn,
    ResolveOut,
    RollbackIn,
    RolloutMove,
    RolloutResponse,
    RolloutState,
)
from api.tenants.dependencies import Principal, require_scopes
from api.tenants.models import Scope
from api.tenants.problems import AUTH_PROBLEMS, TenantNotFound

router = APIRouter(tags=["settlement policies"])
BASE = "/v1/tenants/{tenant_id}/settlement-policies"
ReadDep = Annotated[
    Principal, Depends(require_scopes(Scope.finance_read, Scope.finance_write, Scope.ops_read))
]
WriteDep = Annotated[Principal, Depends(require_scopes(Scope.finance_write, Scope.ops_write))]
TenantPath = Annotated[str, Path(max_length=64, description="The tenant's id (the key's own tenant).")]
PolicyIdPath = Annotated[str, Path(pattern=POLICY_ID_PATTERN)]
READ = (*AUTH_PROBLEMS, TenantNotFound)
WRITE = (*READ, *IDEMPOTENCY_PROBLEMS)
REGISTER = (*WRITE, problems.PolicyInvalid, problems.PolicyVersionConflict, problems.PolicyVersionQuota,
            RevisionConflict)  # fmt: skip
MOVE = (*WRITE, IfMatchInvalid, RevisionAmbiguous, RevisionConflict, problems.InvalidPolicyReference,
        problems.PolicyNotFound)  # fmt: skip
REPEAT = {
    200: {"description": "The same version with the same hashes was registered already: nothing changed."}
}


def _version(version) -> PolicyVersionOut:
    return PolicyVersionOut.model_validate(service.version_out(version))


def _registered(idempotency, registered: service.Registered) -> Response:
    body = PolicyVersionResponse(changed=registered.changed, version=_version(registered.version))
    return idempotency.respond(201 if registered.changed else 200, jsonable_encoder(body))


@router.post(BASE, status_code=201, response_model=PolicyVersionResponse,
             responses={**REPEAT, **problem_responses(*REGISTER)})  # fmt: skip
def post_version(body: PolicyVersionIn, session: WriteSessionDep, principal: WriteDep, now: NowDep,
                 tenant_id: TenantPath, idempotency: IdempotencyDep) -> Response:  # fmt: skip
    """Register a version (max + 1 when `policy_version` is omitted; 201). The same version with identical
    hashes is a 200 that changes nothing; other hashes are 409 POLICY_VERSION_CONFLICT. The tenant's first
    version becomes active (`active_initialized`); later ones wait for a rollout move."""
    if idempotency.replay is not None:
        return idempotency.replay
    own_tenant(session, principal, tenant_id, platform_may=False)
    registered = rollout.register(session, tenant_id=tenant_id, context=principal.audit_context, now=now,
                                  **body.model_dump())  # fmt: skip
    return _registered(idempotency, registered)


@router.post(f"{BASE}/presets/apply", status_code=201, response_model=PolicyVersionResponse,
             responses={**REPEAT, **problem_responses(*REGISTER, problems.PresetNotFound)})  # fmt: skip
def post_preset(body: PresetApply, session: WriteSessionDep, principal: WriteDep, now: NowDep,
                tenant_id: TenantPath, idempotency: IdempotencyDep) -> Response:  # fmt: skip
    """Register a preset (`balanced_guardrails_v1`, `high_autonomy_low_risk_v1`,
    `manual_review_high_risk_v1`) as the next version of its policy id (or of `policy_id`)."""
    if idempotency.replay is not None:
        return idempotency.replay
    own_tenant(session, principal, tenant_id, platform_may=False)
    preset = PRESETS.get(body.preset_id)
    if preset is None:
        raise problems.PresetNotFound(f"No preset {body.preset_id!r}; known: {', '.join(sorted(PRESETS))}.")
    policy_id = body.policy_id or preset["policy_id"]
    same = [v for v in views.list_versions(session, tenant_id=tenant_id, policy_id=policy_id)
            if v.description == preset["description"]]  # fmt: skip
    registered = rollout.register(
        session, tenant_id=tenant_id, context=principal.audit_context, now=now, policy_id=policy_id,
        policy_version=same[0].policy_version if same else None, policy=preset["policy"],
        verification_method=preset["verification_method"], description=preset["description"],
        metadata={"preset_id": body.preset_id},
    )  # fmt: skip
    return _registered(idempotency, registered)


@router.get(BASE, response_model=PolicyVersionList, responses=problem_responses(*READ))
def get_versions(session: SessionDep, principal: ReadDep, tenant_id: TenantPath,
                 policy_id: Annotated[str | None, Query(pattern=POLICY_ID_PATTERN)] = None) -> PolicyVersionList:  # fmt: skip
    """Every version, policy id ascending and version descending."""
    own_tenant(session, principal, tenant_id, platform_may=False)
    versions = views.list_versions(session, tenant_id=tenant_id, policy_id=policy_id)
    return PolicyVersionList(count=len(versions), items=[_version(version) for version in versions])


@router.get(f"{BASE}/state", response_model=RolloutState, responses=problem_responses(*READ))
def get_state(session: SessionDep, principal: ReadDep, tenant_id: TenantPath) -> RolloutState:
    """The rollout: draft, canary (with its percent) and active, and the newest 200 moves."""
    own_tenant(session, principal, tenant_id, platform_may=False)
    return RolloutState.model_validate(views.rollout_state(session, tenant_id=tenant_id))


@router.get(f"{BASE}/diff", response_model=DiffOut,
            responses=problem_responses(*READ, problems.DiffPolicyReferenceRequired,
                                        problems.FromPolicyNotFound, problems.ToPolicyNotFound))  # fmt: skip
def get_diff(session: SessionDep, principal: ReadDep, tenant_id: TenantPath,
             query: Annotated[DiffQuery, Query()]) -> DiffOut:  # fmt: skip
    """Two versions path by path (defaults: from = active, to = draft, else active)."""
    own_tenant(session, principal, tenant_id, platform_may=False)
    pair = lambda text, pid, ver: views.parse_ref_text(text) or ((pid, ver) if pid and ver else None)  # noqa: E731
    result = views.diff(
        session, tenant_id=tenant_id, before=pair(query.from_, query.from_policy_id, query.from_policy_version),
        after=pair(query.to, query.to_policy_id, query.to_policy_version),
        include_unchanged=query.include_unchanged, limit=query.limit,
    )  # fmt: skip
    return DiffOut.model_validate(result)


@router.get(f"{BASE}/{{policy_id}}/{{policy_version}}", response_model=PolicyVersionOut,
            responses=problem_responses(*READ, problems.PolicyNotFound))  # fmt: skip
def get_version(session: SessionDep, principal: ReadDep, tenant_id: TenantPath, policy_id: PolicyIdPath,
                policy_version: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> PolicyVersionOut:  # fmt: skip
    own_tenant(session, principal, tenant_id, platform_may=False)
    return _version(service.get_policy_version(session, tenant_id=tenant_id, policy_id=policy_id,
                                               policy_version=policy_version))  # fmt: skip


def _moved(session, tenant_id: str, moved: rollout.Moved) -> RolloutResponse:
    state = views.rollout_state(
        session, tenant_id=tenant_id, rollout=moved.rollout if moved.rollout.revision else None
    )
    return RolloutResponse(
        changed=moved.changed, action=moved.action, state=RolloutState.model_validate(state)
    )


@router.post(f"{BASE}/rollout", response_model=RolloutResponse,
             responses=problem_responses(*MOVE, problems.InvalidStage, problems.InvalidRolloutPercent))  # fmt: skip
@idempotent
def post_rollout(body: RolloutMove, session: WriteSessionDep, principal: WriteDep, now: NowDep,
                 tenant_id: TenantPath, if_match: IfMatch = None) -> RolloutResponse:  # fmt: skip
    """Set or clear the draft or the canary (`rollout_percent` 1..100, default the previous percent of the
    same version, else 10), or promote a version to active."""
    own_tenant(session, principal, tenant_id, platform_may=False)
    moved = rollout.move(
        session, tenant_id=tenant_id, stage=body.stage, policy_ref=body.policy_ref,
        rollout_percent=body.rollout_percent, clear=body.clear, note=body.note,
        expected_revision=expected_revision(body.expected_revision, if_match),
        context=principal.audit_context, now=now,
    )  # fmt: skip
    return _moved(session, tenant_id, moved)


@router.post(f"{BASE}/rollback", response_model=RolloutResponse,
             responses=problem_responses(*MOVE, problems.ActivePolicyNotSet, problems.RollbackTargetNotFound))  # fmt: skip
@idempotent
def post_rollback(body: RollbackIn, session: WriteSessionDep, principal: WriteDep, now: NowDep,
                  tenant_id: TenantPath, if_match: IfMatch = None) -> RolloutResponse:  # fmt: skip
    """Move the active slot back (to `policy_ref`, else to the version the newest promotion replaced).
    Only references move: versions, settlements and the runs' recorded assignments stay as they are."""
    own_tenant(session, principal, tenant_id, platform_may=False)
    moved = rollout.rollback(
        session, tenant_id=tenant_id, policy_ref=body.policy_ref, note=body.note,
        expected_revision=expected_revision(body.expected_revision, if_match),
        context=principal.audit_context, now=now,
    )  # fmt: skip
    return _moved(session, tenant_id, moved)


@router.post(f"{BASE}/resolve", response_model=ResolveOut,
             responses=problem_responses(*WRITE, problems.ActivePolicyNotSet, problems.PolicyNotFound))  # fmt: skip
@idempotent
def post_resolve(body: ResolveIn, session: WriteSessionDep, principal: WriteDep, now: NowDep,
                 tenant_id: TenantPath) -> ResolveOut:  # fmt: skip
    """The policy a run gets: the canary when the run's bucket (sha256 of `tenant_id:run_id`, first 8 hex
    digits, mod 100) is below the canary percent, else the active version. Recorded with the run: the
    same run resolves to the same answer after any later move or rollback."""
    own_tenant(session, principal, tenant_id, platform_may=False)
    got = service.resolve_policy_for_run(session, tenant_id=tenant_id, run_id=body.run_id, now=now,
                                         actor=principal.key_id or "api")  # fmt: skip
    return ResolveOut(tenant_id=tenant_id, run_id=body.run_id, stage=got.stage, policy_ref=got.policy_ref,
                      bucket=got.bucket, rollout_revision=got.rollout_revision)  # fmt: skip
