"""The mismatch queue: published mismatches of one tenant joined with their triage state.

A mismatch without a triage record is `open`. The operator's severity override, when set, is the effective
severity, and the queue sorts on its rank (critical 1 .. low 4), then on age (oldest first_seen_at first),
then on triage_key, so every page is stable; `sort` picks another total order (oldest, newest, the largest
absolute delta first), each ending on triage_key.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, ColumnElement, and_, case, func, literal_column, select
from sqlalchemy.orm import Session

from api.core.pagination import KeysetOrder, SortKey, paginate
from api.reconciliation.models import ReconciliationMismatch, ReconciliationTriage
from api.reconciliation.schemas import QueueQuery, QueueSort
from api.reconciliation.states import SEVERITY_RANK, TriageStatus

Mismatch, Triage = ReconciliationMismatch, ReconciliationTriage
# Rendered inline, not as a bound parameter: Postgres matches GROUP BY expressions textually, and two
# placeholders ($1, $2) for the same literal would not match.
effective_status = func.coalesce(Triage.status, literal_column(f"'{TriageStatus.open.value}'"))
effective_severity = func.coalesce(Triage.severity, Mismatch.severity)
effective_rank = case(
    *((Triage.severity == name, rank) for name, rank in SEVERITY_RANK.items()), else_=Mismatch.severity_rank
)
_joined = and_(Triage.tenant_id == Mismatch.tenant_id, Triage.triage_key == Mismatch.triage_key)
# Rank, then age, then the primary key (the tenant is fixed by every query): a total, stable order.
QUEUE_ORDER = KeysetOrder(
    "reconciliation_queue",
    (SortKey(effective_rank), SortKey(Mismatch.first_seen_at), SortKey(Mismatch.triage_key)),
)
absolute_delta = func.abs(func.coalesce(Mismatch.amount_delta_cents, 0), type_=BigInteger)
# The other orders `sort` selects; each has its own name, so a cursor never continues another order.
QUEUE_ORDERS = {
    QueueSort.severity: QUEUE_ORDER,
    QueueSort.oldest: KeysetOrder("reconciliation_queue_oldest",
                                  (SortKey(Mismatch.first_seen_at), SortKey(Mismatch.triage_key))),
    QueueSort.newest: KeysetOrder("reconciliation_queue_newest",
                                  (SortKey(Mismatch.first_seen_at, descending=True), SortKey(Mismatch.triage_key))),
    QueueSort.delta: KeysetOrder("reconciliation_queue_delta",
                                 (SortKey(absolute_delta, descending=True), SortKey(Mismatch.triage_key))),
}  # fmt: skip


@dataclass(frozen=True)
class QueueRow:
    mismatch: ReconciliationMismatch
    triage: ReconciliationTriage | None
    status: str
    effective_severity: str
    effective_severity_rank: int


def _conditions(tenant_id: str, query: QueueQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Mismatch.tenant_id == tenant_id]
    if not query.include_cleared:
        conditions.append(Mismatch.cleared_at.is_(None))
    if query.period is not None:
        conditions.append(Mismatch.period == query.period)
    if query.provider_id is not None:
        conditions.append(Mismatch.provider_id == query.provider_id)
    if query.mismatch_type is not None:
        conditions.append(Mismatch.mismatch_type == query.mismatch_type.value)
    if query.source_type is not None:
        conditions.append(Mismatch.source_type == query.source_type.value)
    if query.severity is not None:
        conditions.append(effective_severity == query.severity.value)
    if query.owner is not None:
        conditions.append(Triage.owner == query.owner)
    if query.found_after_close is not None:
        found = Mismatch.found_after_close_at.is_not(None)
        conditions.append(found if query.found_after_close else ~found)
    return conditions


def list_queue(
    session: Session, *, tenant_id: str, query: QueueQuery
) -> tuple[int, dict[str, int], list[QueueRow], str | None]:
    """Returns (count after all filters, statusCounts over every filter but status, one page of rows, the
    next page's cursor)."""
    conditions = _conditions(tenant_id, query)
    counts = dict.fromkeys((status.value for status in TriageStatus), 0)
    grouped = (
        select(effective_status, func.count())
        .select_from(Mismatch)
        .outerjoin(Triage, _joined)
        .where(*conditions)
        .group_by(effective_status)
    )
    for status_value, n in session.execute(grouped):
        counts[status_value] = n
    if query.status is not None:
        conditions.append(effective_status == query.status.value)
    count = session.scalar(
        select(func.count()).select_from(Mismatch).outerjoin(Triage, _joined).where(*conditions)
    )
    page, next_cursor = paginate(
        session,
        select(Mismatch, Triage, effective_status, effective_severity, effective_rank)
        .outerjoin(Triage, _joined)
        .where(*conditions),
        order=QUEUE_ORDERS[query.sort],
        query=query,
    )
    rows = [QueueRow(m, t, status, severity, rank) for m, t, status, severity, rank in page]
    return count or 0, counts, rows, next_cursor
