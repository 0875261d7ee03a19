"""Appending to and reading the audit log. There is deliberately no update or delete path."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.audit.models import AuditLogEntry
from api.core.database import utc_now
from api.core.pagination import KeysetOrder, PageQuery, SortKey, paginate
from settld.core import canonical_json, sha256_hex


@dataclass(frozen=True)
class AuditContext:
    """Who is writing: the tenant, the API key (None for the CLI), and the request id."""

    tenant_id: str
    actor_key_id: str | None
    request_id: str | None


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def append_audit(
    session: Session,
    *,
    context: AuditContext,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any],
    at: datetime | None = None,
) -> AuditLogEntry:
    """Add an audit row to the caller's transaction (it commits or rolls back with the write it records)."""
    details_json = canonical_json(details)
    entry = AuditLogEntry(
        tenant_id=context.tenant_id,
        actor_key_id=context.actor_key_id,
        request_id=context.request_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details_hash=sha256_hex(details_json),
        details_json=details_json,
        at=at or utc_now(),
    )
    session.add(entry)
    session.flush()
    return entry


# Newest first, ties broken by the primary key.
AUDIT_ORDER = KeysetOrder("audit_log", (SortKey(AuditLogEntry.at, descending=True),
                                        SortKey(AuditLogEntry.id, descending=True)))  # fmt: skip


def list_audit(
    session: Session, *, tenant_id: str, filters: AuditFilters, page: PageQuery
) -> tuple[int, list[AuditLogEntry], str | None]:
    """Newest first (`at` desc, ties broken by id desc); count is the filtered total before paging."""
    conditions = [AuditLogEntry.tenant_id == tenant_id]
    if filters.action is not None:
        conditions.append(AuditLogEntry.action == filters.action)
    if filters.target_type is not None:
        conditions.append(AuditLogEntry.target_type == filters.target_type)
    if filters.target_id is not None:
        conditions.append(AuditLogEntry.target_id == filters.target_id)
    if filters.since is not None:
        conditions.append(AuditLogEntry.at >= filters.since)
    if filters.until is not None:
        conditions.append(AuditLogEntry.at < filters.until)
    count = session.scalar(select(func.count()).select_from(AuditLogEntry).where(*conditions)) or 0
    rows, next_cursor = paginate(
        session, select(AuditLogEntry).where(*conditions), order=AUDIT_ORDER, query=page
    )
    return count, [entry for (entry,) in rows], next_cursor


def audit_details(entry: AuditLogEntry) -> Any:
    return json.loads(entry.details_json)
