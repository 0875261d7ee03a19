"""Publish marts.fct_settlements into the API database (plain function, no FastAPI), so disputes and cases
are checked against settlements without a warehouse query per request.

- `rows` is the mart's current set; each row is upserted by (tenant_id, settlement_id): new -> inserted,
  changed -> updated, identical -> untouched (a republish writes nothing).
- A settlement absent from `rows` is kept: disputes and cases refer to it, and the kernel never withdraws a
  settlement (a later export only changes it).
- The amounts are the kernel's (before any arbitration adjustment): the adjustment is the API's own row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select, update

from api.arbitration.models import PublishedSettlement
from api.arbitration.states import SettlementStatus
from api.core.migrate import database_at_head
from api.core.published_rows import RowShape, is_null, typed_row, utc_instant

BATCH_SIZE = 1000
SETTLEMENT_ROW = RowShape(
    required_text=("tenant_id", "settlement_id", "run_id", "payer_agent_id", "payee_agent_id", "status",
                   "currency"),
    optional_text=("policy_id", "policy_hash"),
    required_int=("amount_cents", "released_amount_cents", "refunded_amount_cents"),
    optional_int=("policy_version",),
)  # fmt: skip
TIMESTAMPS = ("resolved_at", "dispute_window_ends_at")
COLUMNS = SETTLEMENT_ROW.columns + TIMESTAMPS


@dataclass(frozen=True)
class SettlementPublishResult:
    inserted: int
    updated: int
    unchanged: int


def _instant(value: Any, where: str) -> datetime | None:
    """A warehouse timestamp (naive means UTC, as every Settld timestamp) or an ISO-8601 text."""
    if is_null(value):
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        if isinstance(value, date) or not hasattr(value, "to_pydatetime"):
            raise ValueError(f"{where} must be a timestamp, got {value!r}")
        value = value.to_pydatetime()  # pandas.Timestamp
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def normalise_settlement(row: Mapping[str, Any], index: int = 0) -> dict[str, Any]:
    clean = typed_row(row, SETTLEMENT_ROW, index)
    if clean["status"] not in set(SettlementStatus):
        raise ValueError(f"row {index}: unknown settlement status {clean['status']!r}")
    if clean["amount_cents"] <= 0:
        raise ValueError(f"row {index}: amount_cents must be positive")
    for column in TIMESTAMPS:
        clean[column] = _instant(row.get(column), f"row {index}: {column}")
    return clean


def publish_settlements(
    database_url: str, rows: Iterable[Mapping[str, Any]], *, published_at: datetime
) -> SettlementPublishResult:
    """Upsert the mart's settlements in one transaction; refuses a database not at head."""
    published_at = utc_instant(published_at)
    incoming: dict[tuple[str, str], dict[str, Any]] = {}
    for index, raw in enumerate(rows):
        row = normalise_settlement(raw, index)
        key = (row["tenant_id"], row["settlement_id"])
        if key in incoming:
            raise ValueError(f"row {index}: duplicate settlement {key}")
        incoming[key] = row
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    unchanged = 0
    with database_at_head(database_url) as database, database.transaction() as session:
        existing = {
            (s.tenant_id, s.settlement_id): {column: getattr(s, column) for column in COLUMNS}
            for s in session.scalars(select(PublishedSettlement))
        }
        session.expunge_all()
        for key in sorted(incoming):
            row, stored = incoming[key], existing.get(key)
            if stored is None:
                inserts.append({**row, "published_at": published_at})
            elif stored != row:
                updates.append({**row, "published_at": published_at})
            else:
                unchanged += 1
        for start in range(0, len(inserts), BATCH_SIZE):
            session.execute(insert(PublishedSettlement), inserts[start : start + BATCH_SIZE])
        for start in range(0, len(updates), BATCH_SIZE):
            session.execute(update(PublishedSettlement), updates[start : start + BATCH_SIZE])
    return SettlementPublishResult(inserted=len(inserts), updated=len(updates), unchanged=unchanged)
