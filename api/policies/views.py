"""What the settlement policy routes read: the version list, the rollout state with its history, the diff
with its defaults (from = active, to = draft or else active)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.policies import problems
from api.policies.diff import diff_versions
from api.policies.models import PolicyRollout, PolicyRolloutEvent, PolicyVersion
from api.policies.rollout import HISTORY_LIMIT
from api.policies.service import find_policy_version, get_rollout

Pair = tuple[str, int]


def list_versions(session: Session, *, tenant_id: str, policy_id: str | None = None) -> list[PolicyVersion]:
    """policy id ascending, version descending (the reference's registry listing)."""
    query = select(PolicyVersion).where(PolicyVersion.tenant_id == tenant_id)
    if policy_id is not None:
        query = query.where(PolicyVersion.policy_id == policy_id)
    return list(session.scalars(query.order_by(PolicyVersion.policy_id, PolicyVersion.policy_version.desc())))


def _ref(session: Session, tenant_id: str, pair: Pair | None) -> dict[str, Any] | None:
    if pair is None or pair[0] is None:
        return None
    version = find_policy_version(session, tenant_id=tenant_id, policy_id=pair[0], policy_version=pair[1])
    return {
        "policy_id": pair[0],
        "policy_version": pair[1],
        "policy_hash": version.policy_hash if version else None,
    }


def rollout_state(
    session: Session, *, tenant_id: str, rollout: PolicyRollout | None = None
) -> dict[str, Any]:
    """TenantSettlementPolicyRollout.v1: the slots and the newest HISTORY_LIMIT moves, newest first."""
    rollout = rollout or get_rollout(session, tenant_id=tenant_id)
    events = session.scalars(
        select(PolicyRolloutEvent).where(PolicyRolloutEvent.tenant_id == tenant_id)
        .order_by(PolicyRolloutEvent.seq.desc()).limit(HISTORY_LIMIT)
    )  # fmt: skip
    history = [
        {"rollout_revision": event.rollout_revision, "at": event.at, "action": event.action, "stage": event.stage,
         "from_policy_ref": _ref(session, tenant_id, (event.from_policy_id, event.from_policy_version)),
         "to_policy_ref": _ref(session, tenant_id, (event.to_policy_id, event.to_policy_version)),
         "rollout_percent": event.rollout_percent, "note": event.note, "actor_key_id": event.actor_key_id}
        for event in events
    ]  # fmt: skip

    def slot(stage: str) -> dict[str, Any] | None:
        if rollout is None:
            return None
        pair = (getattr(rollout, f"{stage}_policy_id"), getattr(rollout, f"{stage}_policy_version"))
        return _ref(session, tenant_id, pair)

    return {
        "tenant_id": tenant_id,
        "revision": rollout.revision if rollout else 0,
        "stages": {
            "draft": slot("draft"),
            "canary": {
                "policy_ref": slot("canary"),
                "rollout_percent": rollout.canary_rollout_percent if rollout else 0,
            },
            "active": slot("active"),
        },
        "history": history,
    }


def parse_ref_text(text: str | None) -> Pair | None:
    if text is None:
        return None
    policy_id, _, number = text.rpartition("@")
    return policy_id, int(number)


def diff(session: Session, *, tenant_id: str, before: Pair | None, after: Pair | None, include_unchanged: bool,
         limit: int) -> dict[str, Any]:  # fmt: skip
    rollout = get_rollout(session, tenant_id=tenant_id)
    active = None if rollout is None or rollout.active_policy_id is None else (
        rollout.active_policy_id, rollout.active_policy_version)  # fmt: skip
    draft = None if rollout is None or rollout.draft_policy_id is None else (
        rollout.draft_policy_id, rollout.draft_policy_version)  # fmt: skip
    before, after = before or active, after or draft or active
    if before is None or after is None:
        raise problems.DiffPolicyReferenceRequired()
    old = find_policy_version(session, tenant_id=tenant_id, policy_id=before[0], policy_version=before[1])
    if old is None:
        raise problems.FromPolicyNotFound(f"No version {before[1]} of {before[0]!r} for this tenant.")
    new = find_policy_version(session, tenant_id=tenant_id, policy_id=after[0], policy_version=after[1])
    if new is None:
        raise problems.ToPolicyNotFound(f"No version {after[1]} of {after[0]!r} for this tenant.")
    return diff_versions(old, new, include_unchanged=include_unchanged, limit=limit)
