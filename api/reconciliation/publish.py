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
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update

from api.core.migrate import database_at_head
from api.reconciliation.models import ReconciliationMismatch
from api.reconciliation.states import SEVERITY_RANK
from settld.core import parse_period

BATCH_SIZE = 1000
REQUIRED_TEXT = (
    "triage_key", "tenant_id", "period", "provider_id", "mismatch_type", "mismatch_key",
    "source_type", "mismatch_code", "severity", "currency",
)  # fmt: skip
OPTIONAL_TEXT = ("party_id", "operation_id", "operation_state", "actual_currency")
REQUIRED_INT = ("severity_rank", "operation_count")
OPTIONAL_INT = ("expected_amount_cents", "actual_amount_cents", "amount_delta_cents")
MART_COLUMNS = REQUIRED_TEXT + OPTIONAL_TEXT + REQUIRED_INT + OPTIONAL_INT


@dataclass(frozen=True)
class PublishResult:
    inserted: int
    updated: int
    unchanged: int
    cleared: int
    reappeared: int


def _is_null(value: Any) -> bool:
    # None, NaN, and pandas' NA / NaT (recognised by type name: the API does not import pandas).
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, float) and math.isnan(value)


def _as_int(value: Any, column: str, index: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        raise ValueError(f"row {index}: {column} must be an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    as_float = float(value)  # type: ignore[arg-type]
    if not as_float.is_integer():
        raise ValueError(f"row {index}: {column} must be an integer, got {value!r}")
    return int(as_float)


def normalise_row(row: Mapping[str, Any], index: int = 0) -> dict[str, Any]:
    """The mart columns of one row, typed; ValueError naming the row and column when it does not fit."""
    clean: dict[str, Any] = {}
    for column in MART_COLUMNS:
        value = row.get(column)
        if _is_null(value):
            if column in REQUIRED_TEXT or column in REQUIRED_INT:
                raise ValueError(f"row {index}: {column} is required")
            clean[column] = None
        elif column in REQUIRED_INT or column in OPTIONAL_INT:
            clean[column] = _as_int(value, column, index)
        elif isinstance(value, str):
            clean[column] = value
        else:
            raise ValueError(f"row {index}: {column} must be text, got {value!r}")
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
    if published_at.tzinfo is None:
        raise ValueError("published_at must be timezone-aware (UTC)")
    published_at = published_at.astimezone(UTC)
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
        existing_query = select(ReconciliationMismatch)
        if scope is not None:
            existing_query = existing_query.where(ReconciliationMismatch.period.in_(sorted(scope)))
        existing = {_key(vars(m)): m for m in session.scalars(existing_query)}
        inserts, updates = [], []
        counts = dict.fromkeys(("inserted", "updated", "unchanged", "cleared", "reappeared"), 0)
        for key in sorted(incoming):
            row, stored = incoming[key], existing.get(key)
            if stored is None:
                stamps = {"first_seen_at": published_at, "last_seen_at": published_at}
                inserts.append({**row, **stamps, "cleared_at": None, "published_at": published_at})
                counts["inserted"] += 1
                continue
            differs = any(getattr(stored, column) != row[column] for column in MART_COLUMNS)
            if stored.cleared_at is None and not differs:
                counts["unchanged"] += 1
                continue
            counts["reappeared" if stored.cleared_at is not None else "updated"] += 1
            updates.append(
                {**row, "cleared_at": None, "last_seen_at": published_at, "published_at": published_at}
            )
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
