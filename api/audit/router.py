"""`GET /ops/audit`: the tenant's audit log, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.audit.schemas import AuditItem, AuditPage, AuditQuery
from api.audit.service import AuditFilters, audit_details, list_audit
from api.core.dependencies import SessionDep
from api.core.errors import problem_responses
from api.core.pagination import CursorInvalid
from api.tenants.dependencies import AuditReadDep
from api.tenants.problems import AUTH_PROBLEMS

router = APIRouter(prefix="/ops", tags=["audit"])


@router.get("/audit", response_model=AuditPage, responses=problem_responses(*AUTH_PROBLEMS, CursorInvalid))
def get_audit(
    session: SessionDep, principal: AuditReadDep, query: Annotated[AuditQuery, Query()]
) -> AuditPage:
    """Audit rows of the key's tenant (scope ops_read or finance_read), `at` desc then id desc."""
    filters = AuditFilters(
        action=query.action,
        target_type=query.target_type,
        target_id=query.target_id,
        since=query.since,
        until=query.until,
    )
    count, entries, next_cursor = list_audit(
        session, tenant_id=principal.tenant_id, filters=filters, page=query
    )
    items = [
        AuditItem(
            id=entry.id,
            tenant_id=entry.tenant_id,
            actor_key_id=entry.actor_key_id,
            request_id=entry.request_id,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            details_hash=entry.details_hash,
            details=audit_details(entry),
            at=entry.at,
        )
        for entry in entries
    ]
    return AuditPage(
        count=count, limit=query.limit, offset=query.offset, next_cursor=next_cursor, items=items
    )
