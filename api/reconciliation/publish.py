"""Publish marts.fct_reconciliation_mismatches into the API database (plain function, no FastAPI).

Semantics (docs/DECISIONLOG.md):
- `rows` is the complete current set of mismatches (optionally of some `periods` only). Each row is upserted
  by (tenant_id, triage_key): new -> inserted; mart columns differ -> updated; identical -> untouched.
- A previously published, not-cleared mismatch absent from `rows` (within `periods`, if given) is cleared:
  `cleared_at = published_at`. Nothing is ever deleted, so triage records stay attached.
- A cleared mismatch that appears again gets `cleared_at = null` (counted as reappeared).
- Publishing identical rows again writes nothing at all: the publish is idempotent. Hence `published_at` is
  the publish that last *wrote* the row (insert, update, clear, reappear), `first_seen_at` the one that
  inserted it, and `last_seen_at` the last publish that wrote it while it was present.
- The mart's `as_of` (the run's judgement instant) and any column we do not know are ignored.
- Closed months stay honest: a mismatch that appears (inserted, or back after being cleared) for a tenant's
  period that is closed now is marked `found_after_close_at = published_at`. The mark is set once and
  never cleared by a later publish; it does not reopen the period (the queue shows and filters it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from api.core.migrate import database_at_head
from api.core.published_rows import RowShape, typed_row, utc_instant
from api.periods.service import closed_periods
from api.reconciliation.models import ReconciliationMismatch
from api.reconciliation.states import SEVERITY_RANK
from settld.core import parse_period

BATCH_SIZE = 1000
MISMATCH_ROW = RowShape(
    required_text=(
        "triage_key", "tenant_id", "period", "provider_id", "mismatch_type", "mismatch_key",
        "source_type", "mismatch_code", "severity", "currency",
    ),
    optional_text=("party_id", "operation_id", "operation_state", "actual_currency"),
    required_int=("severity_rank", "operation_count"),
    optional_int=("expected_amount_cents", "actual_amount_cents", "amount_delta_cents"),
)  # fmt: skip
MART_COLUMNS = MISMATCH_ROW.columns
# What a publish reads of each stored mismatch: the mart's columns first (compared as one tuple), then the
# two marks it keeps.
_STORED_COLUMNS = (*MART_COLUMNS, "cleared_at", "found_after_close_at")


@dataclass(frozen=True)
class PublishResult:
    inserted: int
    updated: int
    unchanged: int
    cleared: int
    reappeared: int
    found_after_close: int = 0  # of the inserted and reappeared rows, those of a period closed now


def normalise_row(row: Mapping[str, Any], index: int = 0) -> dict[str, Any]:
    """The mart columns of one row, typed; ValueError naming the row and column when it does not fit."""
    clean = typed_row(row, MISMATCH_ROW, index)
    parse_period(clean["period"])
    if clean["severity"] not in SEVERITY_RANK:
        raise ValueError(f"row {index}: unknown severity {clean['severity']!r}")
    return clean


def _key(row: Mapping[str, Any]) -> tuple[str, str]:
    return row["tenant_id"], row["triage_key"]


def _batches(items: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(items), BATCH_SIZE):
        yield items[start : start + BATCH_SIZE]


def publish_mismatches(
    database_url: str,
    rows: list[dict[str, Any]],
    *,
    published_at: datetime,
    periods: Iterable[str] | None = None,
) -> PublishResult:
    """Upsert the mart's rows, clear the ones that disappeared, in one transaction (see module docstring);
    refuses an API database not migrated to head (API_SCHEMA_OUTDATED).

    `periods`, when given, limits the snapshot: rows must belong to those periods, and only mismatches of
    those periods can be cleared (for a caller that publishes one partition at a time).
    """
    published_at = utc_instant(published_at)
    scope = None if periods is None else {parse_period(period) for period in periods}
    incoming: dict[tuple[str, str], dict[str, Any]] = {}
    for index, raw in enumerate(rows):
        row = normalise_row(raw, index)
        if scope is not None and row["period"] not in scope:
            raise ValueError(f"row {index}: period {row['period']} is outside the published periods")
        if _key(row) in incoming:
            raise ValueError(
                f"row {index}: duplicate triage_key {row['triage_key']!r} for tenant {row['tenant_id']!r}"
            )
        incoming[_key(row)] = row

    with database_at_head(database_url) as database, database.transaction() as session:
        # Plain rows of the columns compared, not ORM objects: a run republishes every mismatch, most
        # of them unchanged (tens of thousands at a million instructions).
        existing_query = select(*(getattr(ReconciliationMismatch, c) for c in _STORED_COLUMNS))
        if scope is not None:
            existing_query = existing_query.where(ReconciliationMismatch.period.in_(sorted(scope)))
        existing = {(m.tenant_id, m.triage_key): m for m in session.execute(existing_query)}
        closed = closed_periods(session, periods=scope)
        inserts, updates = [], []
        counts = dict.fromkeys(
            ("inserted", "updated", "unchanged", "cleared", "reappeared", "found_after_close"), 0
        )
        for key in sorted(incoming):
            row, stored = incoming[key], existing.get(key)
            # A finding that appears while its period is closed is marked, once, never unmarked.
            appears_after_close = (row["tenant_id"], row["period"]) in closed and (
                stored is None or stored.cleared_at is not None
            )
            counts["found_after_close"] += appears_after_close
            if stored is None:
                stamps = {"first_seen_at": published_at, "last_seen_at": published_at,
                          "found_after_close_at": published_at if appears_after_close else None}  # fmt: skip
                inserts.append({**row, **stamps, "cleared_at": None, "published_at": published_at})
                counts["inserted"] += 1
                continue
            differs = stored[: len(MART_COLUMNS)] != tuple(row[column] for column in MART_COLUMNS)
            if stored.cleared_at is None and not differs:
                counts["unchanged"] += 1
                continue
            counts["reappeared" if stored.cleared_at is not None else "updated"] += 1
            found_after_close_at = stored.found_after_close_at or (
                published_at if appears_after_close else None
            )
            updates.append(
                {**row, "cleared_at": None, "last_seen_at": published_at, "published_at": published_at,
                 "found_after_close_at": found_after_close_at}
            )  # fmt: skip
        for key in sorted(set(existing) - set(incoming)):
            if existing[key].cleared_at is None:
                tenant_id, triage_key = key
                updates.append(
                    {"tenant_id": tenant_id, "triage_key": triage_key, "cleared_at": published_at,
                     "published_at": published_at}
                )  # fmt: skip
                counts["cleared"] += 1
        session.expunge_all()
        for batch in _batches(inserts):
            session.execute(insert(ReconciliationMismatch), batch)
        clears = [u for u in updates if "period" not in u]
        for group in (clears, [u for u in updates if "period" in u]):
            for batch in _batches(group):
                session.execute(update(ReconciliationMismatch), batch)
    return PublishResult(**counts)
