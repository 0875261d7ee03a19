"""HTTP layer of onboarding: a tenant reports its events and reads its checklist with its own key
(ops_write to report, ops_read to read); a platform key with ops_read reads any tenant's checklist.
Another tenant's onboarding is a 404."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Request

from api.core.database import utc_now
from api.core.dependencies import SessionDep, WriteSessionDep
from api.core.errors import problem_responses
from api.idempotency.dependencies import idempotent
from api.idempotency.problems import IDEMPOTENCY_PROBLEMS
from api.onboarding import service
from api.onboarding.problems import EVENT_PROBLEMS
from api.onboarding.schemas import Checklist, EventRecorded, OnboardingEventIn, OnboardingEventOut
from api.tenants.dependencies import OpsReadDep, OpsWriteDep, Principal
from api.tenants.problems import AUTH_PROBLEMS, TenantNotFound
from api.tenants.service import get_tenant

router = APIRouter(prefix="/v1/tenants/{tenant_id}/onboarding", tags=["onboarding"])
TenantPath = Annotated[str, Path(max_length=64, description="The tenant's id (the key's own tenant).")]


def own_tenant(session: SessionDep, principal: Principal, tenant_id: str, *, platform_may: bool) -> str:
    """The tenant the path names if the key may see it; otherwise 404, as for one that does not exist."""
    if principal.tenant_id != tenant_id and not (platform_may and principal.is_platform):
        raise TenantNotFound(f"tenant {tenant_id!r} does not exist")
    return get_tenant(session, tenant_id).tenant_id


@router.post(
    "/events",
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
    "/checklist", response_model=Checklist, responses=problem_responses(*AUTH_PROBLEMS, TenantNotFound)
)
def get_checklist(
    request: Request, session: SessionDep, principal: OpsReadDep, tenant_id: TenantPath
) -> Checklist:
    """Each funnel step done or not with its time, the next step and exactly what to run for it."""
    own_tenant(session, principal, tenant_id, platform_may=True)
    base_url = str(request.base_url).rstrip("/")
    return Checklist.model_validate(service.checklist(session, tenant_id=tenant_id, base_url=base_url))
