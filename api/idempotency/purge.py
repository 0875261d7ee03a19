"""Deleting expired idempotency records, outside a request: `settld api purge` and the daily Dagster
schedule `purge_idempotency_records` (orchestration/defs/operator_api/)."""

from __future__ import annotations

from datetime import datetime, timedelta

from api.core.migrate import database_at_head
from api.idempotency.service import purge_expired


def purge_idempotency_records(database_url: str, *, now: datetime, retention: timedelta) -> int:
    """Delete the records of the API database at `database_url` stored at or before `now - retention`, in
    one transaction; returns how many. Refuses a database that is not at head (API_SCHEMA_OUTDATED)."""
    with database_at_head(database_url) as database, database.transaction() as session:
        return purge_expired(session, now=now, retention=retention)
