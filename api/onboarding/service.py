"""Onboarding events and the checklist they make.

A step is reached at the `at` of the first event of its type the service *received* (a later event
with an earlier `at` does not move it: the old service's first-seen rule). The platform records the
steps it witnesses once per tenant (event id `platform:<event_type>`): signup and the first key when they
happen, the first settlement when the pipeline publishes it (`publish.py`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.audit.service import AuditContext, append_audit
from api.core.pagination import KeysetOrder, PageQuery, SortKey, paginate
from api.onboarding.models import OnboardingCohort, OnboardingEvent
from api.onboarding.steps import FUNNEL_STEPS, PLATFORM_EVENT_PREFIX
from api.onboarding.validation import at_of, event_id_of, event_type_of, sanitise_metadata
from settld.core import canonical_json


@dataclass(frozen=True)
class RecordedEvent:
    event: OnboardingEvent
    duplicate: bool  # the event id was seen before: nothing changed


def _find(session: Session, tenant_id: str, event_id: str) -> OnboardingEvent | None:
    return session.scalars(
        select(OnboardingEvent).where(
            OnboardingEvent.tenant_id == tenant_id, OnboardingEvent.event_id == event_id
        )
    ).one_or_none()


def _insert(session: Session, event: OnboardingEvent) -> RecordedEvent:
    """Insert once per (tenant, event id); a concurrent or earlier insert of the same id wins."""
    existing = _find(session, event.tenant_id, event.event_id)
    if existing is not None:
        return RecordedEvent(existing, duplicate=True)
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        winner = _find(session, event.tenant_id, event.event_id)
        assert winner is not None
        return RecordedEvent(winner, duplicate=True)
    return RecordedEvent(event, duplicate=False)


def record_witnessed(
    session: Session,
    *,
    tenant_id: str,
    event_type: str,
    at: datetime,
    context: AuditContext,
    received_at: datetime | None = None,
    metadata: dict[str, Any] | None = None,
) -> bool:
    """Record a step the platform witnessed, once per tenant; returns whether it was new (and audited)."""
    recorded = _insert(session, OnboardingEvent(
        tenant_id=tenant_id, event_id=f"{PLATFORM_EVENT_PREFIX}{event_type}", event_type=event_type,
        recorded_by="platform", source="platform", metadata_json=canonical_json(metadata or {}),
        actor_key_id=context.actor_key_id, request_id=context.request_id, at=at, received_at=received_at or at,
    ))  # fmt: skip
    if not recorded.duplicate:
        _audit(session, context, recorded.event)
    return not recorded.duplicate


def record_event(
    session: Session, *, tenant_id: str, body: dict[str, Any], context: AuditContext, now: datetime
) -> RecordedEvent:
    """Validate and store what a tenant reports (validation.py); a known `event_id` changes nothing."""
    event_type = event_type_of(body.get("event_type"))
    at = at_of(body.get("at"), received_at=now)
    metadata = sanitise_metadata(body.get("metadata"))
    event_id = event_id_of(body.get("event_id"))
    source = body.get("source")
    source = source[:64] if isinstance(source, str) and source.strip() else None
    recorded = _insert(session, OnboardingEvent(
        tenant_id=tenant_id, event_id=event_id or f"evt_{secrets.token_hex(12)}", event_type=event_type,
        recorded_by="tenant", source=source, metadata_json=canonical_json(metadata),
        actor_key_id=context.actor_key_id, request_id=context.request_id, at=at, received_at=now,
    ))  # fmt: skip
    if not recorded.duplicate:
        _audit(session, context, recorded.event)
    return recorded


def _audit(session: Session, context: AuditContext, event: OnboardingEvent) -> None:
    append_audit(
        session,
        context=AuditContext(event.tenant_id, context.actor_key_id, context.request_id),
        action="ONBOARDING_EVENT",
        target_type="onboarding_event",
        target_id=event.event_id,
        details={
            "event_type": event.event_type,
            "recorded_by": event.recorded_by,
            "at": event.at.isoformat(),
            "source": event.source,
        },  # fmt: skip
        at=event.received_at,
    )


def first_reached(session: Session, *, tenant_id: str) -> dict[str, datetime]:
    """Per event type, the `at` of the first event received (the first-seen rule)."""
    firsts: dict[str, datetime] = {}
    events = session.scalars(
        select(OnboardingEvent)
        .where(OnboardingEvent.tenant_id == tenant_id)
        .order_by(OnboardingEvent.received_at, OnboardingEvent.id)
    )
    for event in events:
        firsts.setdefault(event.event_type, event.at)
    return firsts


def event_count(session: Session, *, tenant_id: str) -> int:
    query = select(func.count()).select_from(OnboardingEvent).where(OnboardingEvent.tenant_id == tenant_id)
    return session.scalar(query) or 0


def checklist(session: Session, *, tenant_id: str, base_url: str) -> dict[str, Any]:
    """The funnel's steps, each done or not with its time and what to run; the first step not done is next
    (a tenant may skip a step: the later ones it reached are still done)."""
    firsts = first_reached(session, tenant_id=tenant_id)
    steps = [
        {
            "step": step.event_type,
            "order": step.funnel_step_order,
            "label": step.label,
            "done": step.event_type in firsts,
            "at": firsts.get(step.event_type),
            "recorded_by": "platform" if step.is_platform_witnessed else "tenant",
            "command": step.next_action.replace("{tenant_id}", tenant_id).replace("{base_url}", base_url),
        }
        for step in FUNNEL_STEPS
    ]
    pending = [step for step in steps if not step["done"]]
    return {
        "tenant_id": tenant_id,
        "steps": steps,
        "completed_steps": len(steps) - len(pending),
        "total_steps": len(steps),
        "next_step": pending[0]["step"] if pending else None,
        "next_command": pending[0]["command"] if pending else None,
        "event_count": event_count(session, tenant_id=tenant_id),
    }


# Newest cohort first, then grain and the funnel's order; the primary key ends it.
COHORT_ORDER = KeysetOrder("onboarding_cohorts", (
    SortKey(OnboardingCohort.cohort, descending=True), SortKey(OnboardingCohort.cohort_grain),
    SortKey(OnboardingCohort.step_order), SortKey(OnboardingCohort.step),
))  # fmt: skip


def list_cohorts(
    session: Session, *, cohort_grain: str | None, shareable_only: bool, page: PageQuery
) -> tuple[int, list[OnboardingCohort], str | None]:
    conditions = []
    if cohort_grain is not None:
        conditions.append(OnboardingCohort.cohort_grain == cohort_grain)
    if shareable_only:
        conditions.append(OnboardingCohort.is_shareable.is_(True))
    count = session.scalar(select(func.count()).select_from(OnboardingCohort).where(*conditions)) or 0
    rows, next_cursor = paginate(session, select(OnboardingCohort).where(*conditions), order=COHORT_ORDER,
                                 query=page)  # fmt: skip
    return count, [cohort for (cohort,) in rows], next_cursor
