"""The settlement policy registry's core: register a version, find one, and resolve the policy a run gets
(the canary percent really used). One transaction per request, never committed here.

`resolve_policy_for_run` and `find_policy_version` are what the marketplace's accept calls
(/work/wt/INTERFACES.md): keep their signatures.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.audit.service import AuditContext, append_audit
from api.policies import problems
from api.policies.document import document_hash, normalised, validate_documents
from api.policies.models import PolicyAssignment as AssignmentRow
from api.policies.models import PolicyRollout, PolicyVersion
from api.policies.states import AssignedStage
from api.tenants.models import Tenant
from settld.core import canonical_json
from settld.vocabulary import POLICY_VERSION_QUOTAS


@dataclass(frozen=True)
class PolicyAssignment:
    stage: str  # "canary" | "active"
    policy_ref: dict  # {"policy_id": str, "policy_version": int, "policy_hash": str}
    bucket: int  # int(sha256(f"{tenant_id}:{run_id}")[:8], 16) % 100
    rollout_revision: int


@dataclass(frozen=True)
class Registered:
    changed: bool  # False: the same version with the same hashes was already there
    version: PolicyVersion


def bucket_of(tenant_id: str, run_id: str) -> int:
    """The run's rollout bucket 0..99: the canary gets the runs whose bucket is below its percent."""
    return int(hashlib.sha256(f"{tenant_id}:{run_id}".encode()).hexdigest()[:8], 16) % 100


def find_policy_version(session: Session, *, tenant_id: str, policy_id: str, policy_version: int):
    """The registered version row (attributes policy_hash, verification_method_hash, policy (dict)) or None."""
    return session.get(PolicyVersion, (tenant_id, policy_id, policy_version))


def get_policy_version(
    session: Session, *, tenant_id: str, policy_id: str, policy_version: int
) -> PolicyVersion:
    version = find_policy_version(
        session, tenant_id=tenant_id, policy_id=policy_id, policy_version=policy_version
    )
    if version is None:
        raise problems.PolicyNotFound(f"No version {policy_version} of policy {policy_id!r} for this tenant.")
    return version


def get_rollout(session: Session, *, tenant_id: str, lock: bool = False) -> PolicyRollout | None:
    query = select(PolicyRollout).where(PolicyRollout.tenant_id == tenant_id)
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def version_quota(session: Session, *, tenant_id: str) -> tuple[str, int]:
    """(plan, max versions) of the tenant's plan; a tenant without a plan has the free plan's quota."""
    plan = session.scalar(select(Tenant.billing_plan).where(Tenant.tenant_id == tenant_id)) or "free"
    return plan, POLICY_VERSION_QUOTAS.get(plan, POLICY_VERSION_QUOTAS["free"])


def register_version(
    session: Session,
    *,
    tenant_id: str,
    policy_id: str,
    policy_version: int | None,
    policy: Any,
    verification_method: Any,
    description: str | None,
    metadata: dict[str, Any] | None,
    context: AuditContext,
    now: datetime,
) -> Registered:
    """Add a version (max + 1 when omitted). The same version with identical hashes changes nothing; with
    other hashes it is 409 POLICY_VERSION_CONFLICT. Versions are never rewritten."""
    if policy_version is None:
        current = session.scalar(select(func.max(PolicyVersion.policy_version)).where(
            PolicyVersion.tenant_id == tenant_id, PolicyVersion.policy_id == policy_id))  # fmt: skip
        policy_version = (current or 0) + 1
    parsed_policy, parsed_method = validate_documents(
        policy, verification_method, policy_version=policy_version
    )
    policy_hash, method_hash = document_hash(parsed_policy), document_hash(parsed_method)
    existing = find_policy_version(
        session, tenant_id=tenant_id, policy_id=policy_id, policy_version=policy_version
    )
    if existing is not None:
        if (existing.policy_hash, existing.verification_method_hash) == (policy_hash, method_hash):
            return Registered(changed=False, version=existing)
        raise problems.PolicyVersionConflict(
            f"Version {policy_version} of {policy_id!r} exists with other hashes; post a new version.",
            policy_id=policy_id, policy_version=policy_version, policy_hash=existing.policy_hash,
            verification_method_hash=existing.verification_method_hash,
        )  # fmt: skip
    plan, quota = version_quota(session, tenant_id=tenant_id)
    count = session.scalar(
        select(func.count()).select_from(PolicyVersion).where(PolicyVersion.tenant_id == tenant_id)
    )
    if count >= quota:
        raise problems.PolicyVersionQuota(
            f"The {plan} plan allows {quota} policy versions; the tenant has {count}.",
            plan=plan, max_policy_versions=quota, policy_versions=count,
        )  # fmt: skip
    version = PolicyVersion(
        tenant_id=tenant_id, policy_id=policy_id, policy_version=policy_version, policy_hash=policy_hash,
        verification_method_hash=method_hash, description=description,
        policy_json=canonical_json(normalised(parsed_policy)),
        verification_method_json=canonical_json(normalised(parsed_method)),
        metadata_json=canonical_json(metadata or {}), created_at=now, created_by_key_id=context.actor_key_id,
    )  # fmt: skip
    session.add(version)
    session.flush()
    append_audit(session, context=context, action="SETTLEMENT_POLICY_VERSION_CREATED",
                 target_type="settlement_policy", target_id=f"{policy_id}@{policy_version}",
                 details={**version.ref, "verification_method_hash": method_hash}, at=now)  # fmt: skip
    return Registered(changed=True, version=version)


def _recorded(row: AssignmentRow) -> PolicyAssignment:
    ref = {"policy_id": row.policy_id, "policy_version": row.policy_version, "policy_hash": row.policy_hash}
    return PolicyAssignment(
        stage=row.stage, policy_ref=ref, bucket=row.bucket, rollout_revision=row.rollout_revision
    )


def find_assignment(session: Session, *, tenant_id: str, run_id: str) -> PolicyAssignment | None:
    row = session.get(AssignmentRow, (tenant_id, run_id))
    return None if row is None else _recorded(row)


def resolve_policy_for_run(
    session, *, tenant_id: str, run_id: str, now: datetime, actor: str
) -> PolicyAssignment:
    """The policy a run gets, recorded with the run (a second call for the same run returns the recorded one,
    even after a rollback). Runs inside the caller's transaction (no commit). Raises the project's problem
    exception with code ACTIVE_POLICY_NOT_SET (409) when the tenant has no active policy.

    Canary when `bucket_of(tenant_id, run_id) < canary percent`, else active."""
    recorded = find_assignment(session, tenant_id=tenant_id, run_id=run_id)
    if recorded is not None:
        return recorded
    rollout = get_rollout(session, tenant_id=tenant_id)
    if rollout is None or rollout.active_policy_id is None:
        raise problems.ActivePolicyNotSet(f"Tenant {tenant_id!r} has no active settlement policy.")
    bucket = bucket_of(tenant_id, run_id)
    canary = rollout.canary_policy_id is not None and bucket < rollout.canary_rollout_percent
    stage = AssignedStage.canary if canary else AssignedStage.active
    policy_id = rollout.canary_policy_id if canary else rollout.active_policy_id
    version_number = rollout.canary_policy_version if canary else rollout.active_policy_version
    version = get_policy_version(
        session, tenant_id=tenant_id, policy_id=policy_id, policy_version=version_number
    )
    row = AssignmentRow(
        tenant_id=tenant_id, run_id=run_id, stage=stage.value, policy_id=version.policy_id,
        policy_version=version.policy_version, policy_hash=version.policy_hash, bucket=bucket,
        rollout_percent=rollout.canary_rollout_percent if rollout.canary_policy_id else 0,
        rollout_revision=rollout.revision, actor=actor, assigned_at=now,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent call for the same run recorded it first: that one holds
        session.expunge(row) if row in session else None
        recorded = find_assignment(session, tenant_id=tenant_id, run_id=run_id)
        if recorded is None:
            raise
        return recorded
    return _recorded(row)


def version_out(version: PolicyVersion) -> dict[str, Any]:
    return {
        "policy_id": version.policy_id, "policy_version": version.policy_version,
        "policy_hash": version.policy_hash, "verification_method_hash": version.verification_method_hash,
        "description": version.description, "policy": version.policy,
        "verification_method": version.verification_method, "metadata": json.loads(version.metadata_json),
        "created_at": version.created_at,
    }  # fmt: skip
