"""The arbitration queue: every case of the tenant with its SLA fields, over-SLA first, then oldest, then
case id; pages follow an opaque keyset cursor over one snapshot.

The first page fixes the snapshot: the instant it was asked (`as_of`) and the last revision written by then
(`seq`). Every page reads each case as its latest revision up to that `seq` (the append-only
`arbitration_case_revisions`), so cases opened, assigned or closed between two pages change nothing in the
listing: its pages never repeat or skip a case. Ages and over-SLA are measured at `as_of`.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from api.arbitration.models import ArbitrationCase, ArbitrationCaseRevision
from api.arbitration.schemas import AppealRef
from api.arbitration.states import CaseStatus
from api.core.errors import Problem
from api.core.pagination import CursorInvalid, KeysetOrder, PageQuery, SortKey, paginate
from api.core.request_json import JsonLimits, load_json
from settld.core import canonical_hash

CURSOR_LIMITS = JsonLimits(max_depth=4, max_string_length=1024)
Revision = ArbitrationCaseRevision


@dataclass(frozen=True)
class QueueFilters:
    status: CaseStatus | None = None
    priority: str | None = None
    assigned: bool | None = None
    arbiter: str | None = None
    run_id: str | None = None
    case_id: str | None = None
    opened_since: datetime | None = None
    sla_hours: float = 24.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value if self.status else None, "priority": self.priority,
            "assigned": self.assigned, "arbiter": self.arbiter, "run_id": self.run_id, "case_id": self.case_id,
            "opened_since": self.opened_since.isoformat() if self.opened_since else None,
            "sla_hours": self.sla_hours,
        }  # fmt: skip


def round_half_up(value: float, places: int = 0) -> float:
    """JS Math.round semantics for the reference's numbers (Python's round() is banker's)."""
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def sla_delta(sla_hours: float) -> timedelta:
    return timedelta(milliseconds=int(round_half_up(sla_hours * 3600 * 1000)))


def sla_fields(*, opened_at: datetime, status: str, now: datetime, sla_hours: float) -> dict[str, Any]:
    age_seconds = max(0, int((now - opened_at).total_seconds() // 1))
    due_at = opened_at + sla_delta(sla_hours)
    return {
        "age_seconds": age_seconds,
        "age_hours": round_half_up(age_seconds / 3600, 2),
        "sla_hours": sla_hours,
        "due_at": due_at,
        "over_sla": status != CaseStatus.closed.value and now > due_at,
    }


def queue_item(row: Any, case_row: ArbitrationCase | None, *, evidence_count: int, now: datetime,
               sla_hours: float) -> dict[str, Any]:  # fmt: skip
    """One queue row from a revision (or the case itself) at `now`."""
    appeal = None
    if case_row is not None and case_row.appeal_parent_case_id is not None:
        appeal = AppealRef(parent_case_id=case_row.appeal_parent_case_id,
                           parent_verdict_id=case_row.appeal_parent_verdict_id, reason=case_row.appeal_reason)  # fmt: skip
    return {
        "case_id": row.case_id, "run_id": row.run_id, "dispute_id": row.dispute_id,
        "settlement_id": row.settlement_id, "priority": row.priority, "status": row.status,
        "arbiter_agent_id": row.arbiter_agent_id, "opened_at": row.opened_at, "closed_at": row.closed_at,
        **sla_fields(opened_at=row.opened_at, status=row.status, now=now, sla_hours=sla_hours),
        "summary": row.summary, "evidence_count": evidence_count, "appeal_ref": appeal,
        "revision": row.revision, "updated_at": getattr(row, "at", None) or row.updated_at,
    }  # fmt: skip


@dataclass(frozen=True)
class Snapshot:
    seq: int
    as_of: datetime


def _encode(snapshot: Snapshot, filters_hash: str, inner: str) -> str:
    raw = json.dumps({"s": snapshot.seq, "t": snapshot.as_of.isoformat(), "f": filters_hash, "c": inner},
                     separators=(",", ":")).encode()  # fmt: skip
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, filters_hash: str) -> tuple[Snapshot, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        document = load_json(raw, CURSOR_LIMITS, loc=("query", "cursor"))
        seq, as_of, inner = document["s"], datetime.fromisoformat(document["t"]), document["c"]
        if document["f"] != filters_hash:
            raise ValueError("another query's cursor")
        if (
            isinstance(seq, bool)
            or not isinstance(seq, int)
            or not isinstance(inner, str)
            or as_of.tzinfo is None
        ):
            raise ValueError("malformed")
        if not 2000 <= as_of.year <= 9000:  # an instant this API never issued (and one date math overflows)
            raise ValueError("out of range")
        as_of = as_of.astimezone(UTC)
    except (Problem, ValueError, KeyError, TypeError, OverflowError, binascii.Error) as error:
        raise CursorInvalid("The cursor is malformed, or was issued for other filters.") from error
    return Snapshot(seq, as_of), inner


@dataclass(frozen=True)
class QueuePage:
    as_of: datetime
    count: int
    over_sla_count: int
    status_counts: dict[str, int]
    items: list[dict[str, Any]]
    next_cursor: str | None


def list_queue(session: Session, *, tenant_id: str, filters: QueueFilters, limit: int, cursor: str | None,
               now: datetime) -> QueuePage:  # fmt: skip
    filters_hash = canonical_hash(filters.as_dict())[:16]
    if cursor is None:
        seq = session.scalar(select(func.max(Revision.seq)).where(Revision.tenant_id == tenant_id)) or 0
        snapshot, inner = Snapshot(seq, now), None
    else:
        snapshot, inner = _decode(cursor, filters_hash)
    latest = (
        select(Revision.case_id, func.max(Revision.seq).label("seq"))
        .where(Revision.tenant_id == tenant_id, Revision.seq <= snapshot.seq)
        .group_by(Revision.case_id)
        .subquery()
    )
    snap = aliased(Revision)
    cutoff = snapshot.as_of - sla_delta(filters.sla_hours)
    over = and_(snap.status != CaseStatus.closed.value, snap.opened_at < cutoff)
    sla_rank = case((over, 0), else_=1)
    order = KeysetOrder(
        "arbitration_queue", (SortKey(sla_rank), SortKey(snap.opened_at), SortKey(snap.case_id))
    )
    conditions: list[Any] = [snap.tenant_id == tenant_id]
    for column, value in ((snap.priority, filters.priority), (snap.arbiter_agent_id, filters.arbiter),
                          (snap.run_id, filters.run_id), (snap.case_id, filters.case_id)):  # fmt: skip
        if value is not None:
            conditions.append(column == value)
    if filters.assigned is not None:
        conditions.append(
            snap.arbiter_agent_id.is_not(None) if filters.assigned else snap.arbiter_agent_id.is_(None)
        )
    if filters.opened_since is not None:
        conditions.append(snap.opened_at >= filters.opened_since)

    def base(*columns: Any) -> Any:
        return select(*columns).select_from(snap).join(latest, snap.seq == latest.c.seq).where(*conditions)

    status_counts = dict.fromkeys(sorted(status.value for status in CaseStatus), 0)
    for status_value, n in session.execute(base(snap.status, func.count()).group_by(snap.status)):
        status_counts[status_value] = n
    if filters.status is not None:
        conditions.append(snap.status == filters.status.value)
    count = session.scalar(base(func.count())) or 0
    over_sla_count = session.scalar(base(func.count()).where(over)) or 0
    rows, next_inner = paginate(session, base(snap), order=order, query=PageQuery(limit=limit, cursor=inner))
    revisions = [revision for (revision,) in rows]
    cases = {c.case_id: c for c in session.scalars(select(ArbitrationCase).where(
        ArbitrationCase.tenant_id == tenant_id, ArbitrationCase.case_id.in_([r.case_id for r in revisions])))}  # fmt: skip
    items = [queue_item(r, cases.get(r.case_id), evidence_count=r.evidence_count, now=snapshot.as_of,
                        sla_hours=filters.sla_hours) for r in revisions]  # fmt: skip
    next_cursor = _encode(snapshot, filters_hash, next_inner) if next_inner else None
    return QueuePage(snapshot.as_of, count, over_sla_count, status_counts, items, next_cursor)
