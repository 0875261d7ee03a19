"""A tenant's rollout: the draft, canary and active slots, each move recorded in the history, and the
rollback (settld-behaviour.md §6.3). Moves change references only: no version, settlement or recorded
assignment is rewritten. A move that changes nothing (`active_confirmed`, `rollback_noop`, the same draft
or canary again) answers `changed: false` with no new revision, no history row and no audit row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit.service import AuditContext, append_audit
from api.core import revisions
from api.policies import problems
from api.policies.models import PolicyRollout, PolicyRolloutEvent, PolicyVersion
from api.policies.service import Registered, get_policy_version, get_rollout, register_version
from api.policies.states import DEFAULT_CANARY_PERCENT, RolloutAction, Stage

POLICY_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
HISTORY_LIMIT = 200
Ref = tuple[str, int]  # (policy_id, policy_version)


@dataclass(frozen=True)
class Moved:
    changed: bool
    action: str
    rollout: PolicyRollout


def parse_ref(session: Session, *, tenant_id: str, value: Any) -> PolicyVersion:
    """The registered version a `policy_ref` names: 422 INVALID_POLICY_REFERENCE when malformed or its
    `policy_hash` differs from the registered one, 404 POLICY_NOT_FOUND when not registered."""
    if not isinstance(value, dict) or set(value) - {"policy_id", "policy_version", "policy_hash"}:
        raise problems.InvalidPolicyReference("policy_ref must be {policy_id, policy_version, policy_hash?}.")
    policy_id, number = value.get("policy_id"), value.get("policy_version")
    if not isinstance(policy_id, str) or not re.match(POLICY_ID_PATTERN, policy_id):
        raise problems.InvalidPolicyReference("policy_ref.policy_id must match [A-Za-z0-9._:-]{1,128}.")
    if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 2**31 - 1:
        raise problems.InvalidPolicyReference("policy_ref.policy_version must be an integer >= 1.")
    version = get_policy_version(session, tenant_id=tenant_id, policy_id=policy_id, policy_version=number)
    if value.get("policy_hash") is not None and value["policy_hash"] != version.policy_hash:
        raise problems.InvalidPolicyReference(
            f"policy_ref.policy_hash is not the hash of {policy_id} version {number} ({version.policy_hash})."
        )
    return version


def _slot(rollout: PolicyRollout, stage: Stage) -> Ref | None:
    policy_id, number = getattr(rollout, f"{stage}_policy_id"), getattr(rollout, f"{stage}_policy_version")
    return None if policy_id is None else (policy_id, number)


def _set(rollout: PolicyRollout, stage: Stage, ref: Ref | None) -> None:
    setattr(rollout, f"{stage}_policy_id", ref[0] if ref else None)
    setattr(rollout, f"{stage}_policy_version", ref[1] if ref else None)


def check_revision(rollout: PolicyRollout | None, expected: int | None) -> None:
    revisions.check_revision(rollout.revision if rollout is not None else 0, expected, "rollout")


def load_for_write(session: Session, *, tenant_id: str, now: datetime) -> PolicyRollout:
    """The tenant's rollout, locked; a new one (revision 0) is added to the session by its first move."""
    rollout = get_rollout(session, tenant_id=tenant_id, lock=True)
    if rollout is None:
        rollout = PolicyRollout(tenant_id=tenant_id, canary_rollout_percent=0, revision=0, updated_at=now)
    return rollout


def _record(session: Session, rollout: PolicyRollout, *, action: RolloutAction, stage: Stage, before: Ref | None,
            after: Ref | None, percent: int | None, note: str | None, context: AuditContext,
            now: datetime) -> None:  # fmt: skip
    if rollout.revision == 0:
        session.add(rollout)
    rollout.revision += 1
    rollout.updated_at = now
    event = PolicyRolloutEvent(
        tenant_id=rollout.tenant_id, rollout_revision=rollout.revision, action=action.value, stage=stage.value,
        from_policy_id=before[0] if before else None, from_policy_version=before[1] if before else None,
        to_policy_id=after[0] if after else None, to_policy_version=after[1] if after else None,
        rollout_percent=percent, note=note, actor_key_id=context.actor_key_id, at=now,
    )  # fmt: skip
    session.add(event)
    ref = lambda pair: None if pair is None else {"policy_id": pair[0], "policy_version": pair[1]}  # noqa: E731
    append_audit(session, context=context, action="SETTLEMENT_POLICY_ROLLOUT_UPDATED",
                 target_type="settlement_policy_rollout", target_id=rollout.tenant_id,
                 details={"action": action.value, "stage": stage.value, "from_policy_ref": ref(before),
                          "to_policy_ref": ref(after), "rollout_percent": percent, "note": note,
                          "rollout_revision": rollout.revision}, at=now)  # fmt: skip


def flush(session: Session, rollout: PolicyRollout) -> None:
    revisions.flush_or_conflict(session, rollout.revision - 1, "rollout")


def _percent(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
        raise problems.InvalidRolloutPercent(f"rollout_percent must be an integer 1..100, got {value!r}.")
    return value


def move(session: Session, *, tenant_id: str, stage: Any, policy_ref: Any, rollout_percent: Any = None,
         clear: bool = False, note: str | None = None, expected_revision: int | None = None,
         context: AuditContext, now: datetime) -> Moved:  # fmt: skip
    """POST .../rollout: set or clear the draft or canary, or promote a version to active."""
    if stage not in {s.value for s in Stage} or (clear and stage == Stage.active):
        raise problems.InvalidStage(
            f"stage must be draft, canary or active (active cannot be cleared), got {stage!r}."
        )
    stage = Stage(stage)
    if rollout_percent is not None and (stage != Stage.canary or clear):
        raise problems.InvalidRolloutPercent("rollout_percent applies to setting the canary only.")
    percent = _percent(rollout_percent) if rollout_percent is not None else None
    if not clear and policy_ref is None:
        raise problems.InvalidPolicyReference("policy_ref is required unless clear is true.")
    version = None if clear else parse_ref(session, tenant_id=tenant_id, value=policy_ref)
    rollout = load_for_write(session, tenant_id=tenant_id, now=now)
    check_revision(rollout, expected_revision)
    before, after = (
        _slot(rollout, stage),
        None if version is None else (version.policy_id, version.policy_version),
    )
    common = {"stage": stage, "before": before, "after": after, "note": note, "context": context, "now": now}
    if stage == Stage.canary and clear:
        if before is None:
            return Moved(False, RolloutAction.canary_cleared.value, rollout)
        action = _clear_canary(session, rollout, note=note, context=context, now=now)
    elif stage == Stage.canary:
        percent = percent or (rollout.canary_rollout_percent if before == after else DEFAULT_CANARY_PERCENT)
        action = RolloutAction.canary_updated
        if before == after and percent == rollout.canary_rollout_percent:
            return Moved(False, action.value, rollout)
        _set(rollout, stage, after)
        rollout.canary_rollout_percent = percent
        _record(session, rollout, action=action, percent=percent, **common)
    elif stage == Stage.active:
        if before == after:
            return Moved(False, RolloutAction.active_confirmed.value, rollout)
        action = RolloutAction.active_promoted
        _set(rollout, stage, after)
        _record(session, rollout, action=action, percent=None, **common)
        if _slot(rollout, Stage.canary) == after:  # the canary graduated: it no longer takes a share
            _clear_canary(session, rollout, note="promoted to active", context=context, now=now)
    else:
        action = RolloutAction.draft_selected if after else RolloutAction.draft_cleared
        if before == after:
            return Moved(False, action.value, rollout)
        _set(rollout, stage, after)
        _record(session, rollout, action=action, percent=None, **common)
    return _finish(session, rollout, action)


def _clear_canary(session: Session, rollout: PolicyRollout, *, note: str | None, context: AuditContext,
                  now: datetime) -> RolloutAction:  # fmt: skip
    before = _slot(rollout, Stage.canary)
    _set(rollout, Stage.canary, None)
    rollout.canary_rollout_percent = 0
    _record(session, rollout, action=RolloutAction.canary_cleared, stage=Stage.canary, before=before, after=None,
            percent=0, note=note, context=context, now=now)  # fmt: skip
    return RolloutAction.canary_cleared


def _finish(session: Session, rollout: PolicyRollout, action: RolloutAction) -> Moved:
    flush(session, rollout)
    return Moved(True, action.value, rollout)


def initialize_active(
    session: Session, *, version: PolicyVersion, context: AuditContext, now: datetime
) -> bool:
    """A tenant's first version becomes active (`active_initialized`); later ones wait for a move."""
    rollout = load_for_write(session, tenant_id=version.tenant_id, now=now)
    if rollout.active_policy_id is not None:
        return False
    after = (version.policy_id, version.policy_version)
    _set(rollout, Stage.active, after)
    _record(session, rollout, action=RolloutAction.active_initialized, stage=Stage.active, before=None,
            after=after, percent=None, note=None, context=context, now=now)  # fmt: skip
    flush(session, rollout)
    return True


def rollback(session: Session, *, tenant_id: str, policy_ref: Any = None, note: str | None = None,
             expected_revision: int | None = None, context: AuditContext, now: datetime) -> Moved:  # fmt: skip
    """POST .../rollback: the active slot back to `policy_ref`, or else to the version the newest active
    move in the history replaced (one that differs from the current active)."""
    rollout = get_rollout(session, tenant_id=tenant_id, lock=True)
    check_revision(rollout, expected_revision)
    current = None if rollout is None else _slot(rollout, Stage.active)
    if rollout is None or current is None:
        raise problems.ActivePolicyNotSet(f"Tenant {tenant_id!r} has no active settlement policy.")
    if policy_ref is not None:
        version = parse_ref(session, tenant_id=tenant_id, value=policy_ref)
        target: Ref | None = (version.policy_id, version.policy_version)
    else:
        replaced = session.execute(
            select(PolicyRolloutEvent.from_policy_id, PolicyRolloutEvent.from_policy_version)
            .where(PolicyRolloutEvent.tenant_id == tenant_id, PolicyRolloutEvent.stage == Stage.active.value,
                   PolicyRolloutEvent.from_policy_id.is_not(None))
            .order_by(PolicyRolloutEvent.seq.desc())
        ).tuples()  # fmt: skip
        target = next((tuple(ref) for ref in replaced if tuple(ref) != current), None)
        if target is None:
            raise problems.RollbackTargetNotFound("No earlier active version in the history to roll back to.")
    if target == current:
        return Moved(False, RolloutAction.rollback_noop.value, rollout)
    _set(rollout, Stage.active, target)
    _record(session, rollout, action=RolloutAction.active_rollback, stage=Stage.active, before=current,
            after=target, percent=None, note=note, context=context, now=now)  # fmt: skip
    return _finish(session, rollout, RolloutAction.active_rollback)


def register(
    session: Session, *, tenant_id: str, context: AuditContext, now: datetime, **document: Any
) -> Registered:
    """Register a version (api.policies.service.register_version); a tenant's first becomes active."""
    registered = register_version(session, tenant_id=tenant_id, context=context, now=now, **document)
    if registered.changed:
        initialize_active(session, version=registered.version, context=context, now=now)
    return registered
