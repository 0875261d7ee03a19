"""HTTP layer of onboarding: a tenant reports its events and reads its checklist with its own key
(ops_write to report, ops_read to read); a platform key with ops_read reads any tenant's checklist.
Another tenant's onboarding is a 404. The cohorts (across tenants) are for platform keys with ops_read
only: a tenant key is 403."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from api.core.database import utc_now
from api.core.dependencies import SessionDep, WriteSessionDep
from api.core.errors import problem_responses
from api.core.pagination import CursorInvalid
from api.idempotency.dependencies import idempotent
from api.idempotency.problems import IDEMPOTENCY_PROBLEMS
from api.onboarding import service
from api.onboarding.problems import EVENT_PROBLEMS
from api.onboarding.schemas import (
    Checklist,
    CohortItem,
    CohortPage,
    CohortQuery,
    EventRecorded,
    OnboardingEventIn,
    OnboardingEventOut,
)
from api.tenants.dependencies import OpsReadDep, OpsWriteDep, PlatformReadDep, Principal
from api.tenants.problems import AUTH_PROBLEMS, PLATFORM_PROBLEMS, TenantNotFound
from api.tenants.service import get_tenant

router = APIRouter(tags=["onboarding"])
ONBOARDING = "/v1/tenants/{tenant_id}/onboarding"
TenantPath = Annotated[str, Path(max_length=64, description="The tenant's id (the key's own tenant).")]


def own_tenant(session: SessionDep, principal: Principal, tenant_id: str, *, platform_may: bool) -> str:
    """The tenant the path names if the key may see it; otherwise 404, as for one that does not exist."""
    if principal.tenant_id != tenant_id and not (platform_may and principal.is_platform):
        raise TenantNotFound(f"tenant {tenant_id!r} does not exist")
    return get_tenant(session, tenant_id).tenant_id


@router.post(
    f"{ONBOARDING}/events",
    response_model=EventRecorded,
    responses=problem_responses(*AUTH_PROBLEMS, *IDEMPOTENCY_PROBLEMS, TenantNotFound, *EVENT_PROBLEMS),
)
@idempotent
def post_event(
    body: OnboardingEventIn, session: WriteSessionDep, principal: OpsWriteDep, tenant_id: TenantPath
) -> EventRecorded:
    """Record an onboarding event the tenant reports. Steps the platform witnesses (signup, the first key,
    the first settlement) are refused: it records them itself. A repost with a known `event_id` changes
    nothing and answers with the stored event (`duplicate: true`)."""
    own_tenant(session, principal, tenant_id, platform_may=False)
    recorded = service.record_event(session, tenant_id=tenant_id, body=body.model_dump(),
                                    context=principal.audit_context, now=utc_now())  # fmt: skip
    event = recorded.event
    return EventRecorded(
        tenant_id=tenant_id,
        duplicate=recorded.duplicate,
        event=OnboardingEventOut(
            event_id=event.event_id,
            event_type=event.event_type,
            recorded_by=event.recorded_by,
            source=event.source,
            metadata=json.loads(event.metadata_json),
            at=event.at,
            received_at=event.received_at,
        ),  # fmt: skip
    )


@router.get(
    f"{ONBOARDING}/checklist",
    response_model=Checklist,
    responses=problem_responses(*AUTH_PROBLEMS, TenantNotFound),
)
def get_checklist(
    request: Request, session: SessionDep, principal: OpsReadDep, tenant_id: TenantPath
) -> Checklist:
    """Each funnel step done or not with its time, the next step and exactly what to run for it."""
    own_tenant(session, principal, tenant_id, platform_may=True)
    base_url = str(request.base_url).rstrip("/")
    return Checklist.model_validate(service.checklist(session, tenant_id=tenant_id, base_url=base_url))


@router.get(
    "/ops/onboarding/cohorts",
    response_model=CohortPage,
    responses=problem_responses(*PLATFORM_PROBLEMS, CursorInvalid),
)
def get_cohorts(
    session: SessionDep, principal: PlatformReadDep, query: Annotated[CohortQuery, Query()]
) -> CohortPage:
    """The onboarding funnel by signup cohort (week and month) and step, as the pipeline last published
    it (marts.fct_onboarding_cohorts): reach, conversion and drop-off in basis points, median and p90
    seconds to the first settlement. Cohorts of fewer than 3 tenants are marked `is_shareable: false`."""
    count, cohorts, next_cursor = service.list_cohorts(
        session, cohort_grain=query.cohort_grain, shareable_only=query.shareable_only, page=query
    )
    return CohortPage(count=count, limit=query.limit, offset=query.offset, next_cursor=next_cursor,
                      items=[CohortItem.model_validate(cohort) for cohort in cohorts])  # fmt: skip
