"""Triage of reconciliation mismatches: the rules, in one transaction per request.

These functions write through the caller's session and never commit: the request's commit point
(api/core/dependencies.py) commits the change together with its audit row and idempotency record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from api.audit.service import append_audit
from api.core.database import utc_now
from api.core.pagination import KeysetOrder, SortKey, paginate
from api.core.revisions import revision_conflict
from api.reconciliation import problems
from api.reconciliation.models import ReconciliationMismatch, ReconciliationTriage, ReconciliationTriageAction
from api.reconciliation.schemas import TriageListQuery, TriageUpsert
from api.reconciliation.states import (
    REOPENABLE_STATUSES,
    STATUSES_NEEDING_RESOLUTION,
    TERMINAL_STATUSES,
    TRIAGE,
    TriageAction,
    TriageStatus,
)
from api.tenants.dependencies import Principal
from settld.core import canonical_hash

AUDIT_ACTION = "FINANCE_RECONCILIATION_TRIAGE_UPSERT"
MUTABLE_FIELDS = ("owner", "severity", "notes", "resolution")
RESPONSE_ACTION_COUNT = 10
# Most recently updated first, then the primary key (the tenant is fixed by every query).
TRIAGE_LIST_ORDER = KeysetOrder(
    "reconciliation_triage", (SortKey(ReconciliationTriage.updated_at, descending=True),
                              SortKey(ReconciliationTriage.triage_key)),
)  # fmt: skip


@dataclass(frozen=True)
class UpsertOutcome:
    changed: bool
    triage: ReconciliationTriage


def get_mismatch(session: Session, *, tenant_id: str, triage_key: str) -> ReconciliationMismatch:
    mismatch = session.get(ReconciliationMismatch, (tenant_id, triage_key))
    if mismatch is None:
        raise problems.MismatchNotFound(f"No published mismatch {triage_key!r} for this tenant.")
    return mismatch


def _target_status(request: TriageUpsert, current: TriageStatus) -> TriageStatus:
    if request.action == "reopen":
        if current not in REOPENABLE_STATUSES:  # reopening is an action, not a move of the table
            raise TRIAGE.illegal(
                current, TriageStatus.open, hint="Only resolved or dismissed records can be reopened."
            )
        if request.status not in (None, TriageStatus.open):
            raise problems.ReopenStatusConflict()
        if request.resolution is not None:
            raise problems.ReopenResolutionNotAllowed()
        if not (request.notes or "").strip():
            raise problems.ReopenNotesRequired()
        return TriageStatus.open
    target = request.status or current
    if target != current:  # staying is not a move
        hint = "Use action=reopen first." if current in TERMINAL_STATUSES else ""
        TRIAGE.assert_transition(current, target, hint=hint)
    return target


def _apply_timestamps(
    triage: ReconciliationTriage,
    prev: TriageStatus,
    target: TriageStatus,
    *,
    reopen: bool,
    now: datetime,
    key_id: str,
) -> None:
    if reopen:  # a new episode: the per-state times describe the current one only
        triage.opened_at = now
        triage.triaged_at = triage.acknowledged_at = triage.in_progress_at = None
        triage.resolved_at = triage.closed_at = None
        triage.resolved_by_key_id = None
        return
    if target == prev:
        return
    if prev == TriageStatus.open and triage.triaged_at is None:
        triage.triaged_at = now
    if target == TriageStatus.acknowledged and triage.acknowledged_at is None:
        triage.acknowledged_at = now
    if target == TriageStatus.in_progress and triage.in_progress_at is None:
        triage.in_progress_at = now
    if target in TERMINAL_STATUSES:
        # As in FinanceReconciliationTriage.v1, resolved_at marks resolved *or* dismissed (the mismatch no
        # longer needs work); with terminal states it coincides with closed_at, the state-machine convention.
        triage.resolved_at = triage.closed_at = now
        triage.resolved_by_key_id = key_id


def _new_record(mismatch: ReconciliationMismatch, *, now: datetime, key_id: str) -> ReconciliationTriage:
    return ReconciliationTriage(
        tenant_id=mismatch.tenant_id,
        triage_key=mismatch.triage_key,
        source_type=mismatch.source_type,
        period=mismatch.period,
        provider_id=mismatch.provider_id,
        mismatch_type=mismatch.mismatch_type,
        mismatch_key=mismatch.mismatch_key,
        mismatch_code=mismatch.mismatch_code,
        status=TriageStatus.open.value,
        revision=0,
        created_by_key_id=key_id,
        created_at=now,
        updated_at=now,
        opened_at=now,
    )


def upsert_triage(
    session: Session, *, principal: Principal, request: TriageUpsert, expected_revision: int | None
) -> UpsertOutcome:
    """Create or change a triage record under the transition table, with optimistic concurrency."""
    now = utc_now()
    mismatch = get_mismatch(session, tenant_id=principal.tenant_id, triage_key=request.triage_key)
    triage = session.scalars(
        select(ReconciliationTriage)
        .where(
            ReconciliationTriage.tenant_id == principal.tenant_id,
            ReconciliationTriage.triage_key == request.triage_key,
        )
        .with_for_update()
    ).one_or_none()
    current_revision = triage.revision if triage else 0
    if expected_revision is not None and expected_revision != current_revision:
        raise revision_conflict(current_revision, expected_revision, "triage record")

    current = TriageStatus(triage.status) if triage else TriageStatus.open
    target = _target_status(request, current)
    reopen = request.action == "reopen"
    stored = {field: getattr(triage, field) if triage else None for field in MUTABLE_FIELDS}
    values = dict(stored)
    for field in MUTABLE_FIELDS:
        if field in request.model_fields_set:
            value = getattr(request, field)
            values[field] = value.value if hasattr(value, "value") else value
    if reopen:
        values["resolution"] = None
    changes = {
        field: [stored[field], values[field]] for field in MUTABLE_FIELDS if stored[field] != values[field]
    }
    status_changed = target != current or reopen
    if triage is not None and not status_changed and not changes:
        return UpsertOutcome(changed=False, triage=triage)
    if current in TERMINAL_STATUSES and not reopen:
        raise problems.TriageClosed(f"The record is {current}; reopen it (action=reopen) to change it.")
    if (
        target in STATUSES_NEEDING_RESOLUTION
        and target != current
        and not (values["resolution"] or "").strip()
    ):
        raise problems.ResolutionRequired(f"Moving to {target} needs a resolution.")

    creating = triage is None
    if triage is None:
        triage = _new_record(mismatch, now=now, key_id=principal.key_id)
        session.add(triage)
    _apply_timestamps(triage, current, target, reopen=reopen, now=now, key_id=principal.key_id)
    for field, value in values.items():
        setattr(triage, field, value)
    triage.status = target.value
    triage.revision = current_revision + 1
    triage.updated_at = now
    triage.updated_by_key_id = principal.key_id
    action = TriageAction.create if creating else TriageAction.reopen if reopen else TriageAction.update
    session.add(
        ReconciliationTriageAction(
            action_id="frta_"
            + canonical_hash([principal.tenant_id, triage.triage_key, triage.revision])[:24],
            tenant_id=principal.tenant_id,
            triage_key=triage.triage_key,
            revision=triage.revision,
            action=action.value,
            prev_status=None if creating else current.value,
            next_status=target.value,
            owner=triage.owner,
            notes=request.notes if "notes" in request.model_fields_set else None,
            actor_key_id=principal.key_id,
            request_id=principal.request_id,
            at=now,
        )
    )
    try:
        session.flush()
    except (StaleDataError, IntegrityError) as error:  # another writer got this revision first
        raise revision_conflict(current_revision + 1, current_revision, "triage record") from error
    details: dict[str, Any] = {
        "triage_key": triage.triage_key,
        "action": action.value,
        "revision": triage.revision,
        "prev_status": None if creating else current.value,
        "next_status": target.value,
        "changes": changes,
    }
    append_audit(
        session,
        context=principal.audit_context,
        action=AUDIT_ACTION,
        target_type="reconciliation_triage",
        target_id=triage.triage_key,
        details=details,
        at=now,
    )
    return UpsertOutcome(changed=True, triage=triage)


def triage_actions(session: Session, triage: ReconciliationTriage, *, limit: int | None = None) -> list[Any]:
    query = (
        select(ReconciliationTriageAction)
        .where(
            ReconciliationTriageAction.tenant_id == triage.tenant_id,
            ReconciliationTriageAction.triage_key == triage.triage_key,
        )
        .order_by(ReconciliationTriageAction.revision.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def get_triage(session: Session, *, tenant_id: str, triage_key: str) -> ReconciliationTriage:
    triage = session.get(ReconciliationTriage, (tenant_id, triage_key))
    if triage is None:
        raise problems.TriageNotFound(f"No triage record {triage_key!r} for this tenant.")
    return triage


def list_triage(
    session: Session, *, tenant_id: str, query: TriageListQuery
) -> tuple[int, dict[str, int], list[ReconciliationTriage], str | None]:
    """Records sorted by updated_at desc then triage_key; statusCounts ignore the status filter."""
    conditions = [ReconciliationTriage.tenant_id == tenant_id]
    if query.period is not None:
        conditions.append(ReconciliationTriage.period == query.period)
    if query.provider_id is not None:
        conditions.append(ReconciliationTriage.provider_id == query.provider_id)
    counts = dict.fromkeys((status.value for status in TriageStatus), 0)
    for status_value, n in session.execute(
        select(ReconciliationTriage.status, func.count())
        .where(*conditions)
        .group_by(ReconciliationTriage.status)
    ):
        counts[status_value] = n
    if query.status is not None:
        conditions.append(ReconciliationTriage.status == query.status.value)
    count = session.scalar(select(func.count()).select_from(ReconciliationTriage).where(*conditions)) or 0
    rows, next_cursor = paginate(
        session, select(ReconciliationTriage).where(*conditions), order=TRIAGE_LIST_ORDER, query=query
    )
    return count, counts, [triage for (triage,) in rows], next_cursor
