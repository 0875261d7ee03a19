"""What the period gate needs from the operator API and gives back, outside a request: the live triage
of a tenant's period, and the verdicts the close trusts. Called by `settld gate` and by the Dagster gate
asset (orchestration/defs/gate/), each in a transaction of its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from api.core.database import Database, utc_now
from api.core.migrate import database_at_head
from api.periods.models import PeriodClose
from api.periods.service import record_verdict
from api.reconciliation.models import ReconciliationTriage

TriageReader = Callable[[str, str], dict[str, dict[str, Any]]]


def triage_reader(database_url: str) -> TriageReader:
    """(tenant, period) -> triage_key -> {status, severity}, read live from the API database."""

    def read(tenant_id: str, period: str) -> dict[str, dict[str, Any]]:
        database = Database(database_url)
        try:
            with database.session() as session:
                rows = session.scalars(
                    select(ReconciliationTriage).where(
                        ReconciliationTriage.tenant_id == tenant_id, ReconciliationTriage.period == period
                    )
                )
                return {row.triage_key: {"status": row.status, "severity": row.severity} for row in rows}
        finally:
            database.dispose()

    return read


def record_verdicts(database_url: str, verdicts: list[dict[str, Any]]) -> None:
    """Keep each verdict as its tenant's latest for its period, in one transaction."""
    with database_at_head(database_url) as database, database.transaction() as session:
        now = utc_now()
        for verdict in verdicts:
            record_verdict(session, verdict, now=now)


def period_closes(database_url: str, *, periods: list[str]) -> list[dict[str, Any]]:
    """The close record of every tenant period among `periods` that was ever closed."""
    database = Database(database_url)
    try:
        with database.session() as session:
            rows = session.scalars(
                select(PeriodClose)
                .where(PeriodClose.period.in_(periods))
                .order_by(PeriodClose.period, PeriodClose.tenant_id)
            )
            return [
                {"tenant_id": row.tenant_id, "period": row.period, "status": row.status,
                 "revision": row.revision, "bundle_file": row.bundle_file, "bundle_sha256": row.bundle_sha256,
                 "closed_at": row.closed_at}
                for row in rows
            ]  # fmt: skip
    finally:
        database.dispose()
