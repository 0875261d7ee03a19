"""The SLA watchdog's store functions (no FastAPI; the pipeline's sensor calls them): which cases are over
their SLA now, and the `arbitration_alerts` table that lets one alert per (tenant, case, 15-minute bucket)
through, whatever the number of sensor ticks, runs or restarts.

Unlike the reference, whose per-case alert id hashed the case's age (so every call in a bucket made a new
one), the alert id and the unique key hold only what names the alert: tenant, type, case and bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from api.arbitration.models import ArbitrationAlert, ArbitrationCase
from api.arbitration.queue import sla_delta
from api.arbitration.states import CaseStatus
from api.core.migrate import database_at_head
from settld.core import canonical_hash, canonical_json

ALERT_TYPE = "dispute_case_over_sla"
BUCKET = timedelta(minutes=15)
MAX_CASES = 500  # per evaluation, oldest first; the rest page in the next bucket


def bucket_start(now: datetime) -> datetime:
    """The start of the 15-minute UTC bucket holding `now`."""
    now = now.astimezone(UTC)
    return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)


def alert_id(*, tenant_id: str, case_id: str, bucket_start_at: datetime) -> str:
    key = {"tenantId": tenant_id, "alertType": ALERT_TYPE, "caseId": case_id,
           "bucketStartAt": bucket_start_at.isoformat()}  # fmt: skip
    return f"cc_alert_{ALERT_TYPE}_{canonical_hash(key)[:24]}"


@dataclass(frozen=True)
class OverSlaCase:
    tenant_id: str
    case_id: str
    run_id: str
    dispute_id: str
    priority: str
    status: str
    opened_at: datetime
    age_seconds: int


def _pending(session: Any, *, now: datetime, sla_hours: float) -> list[OverSlaCase]:
    bucket = bucket_start(now)
    alerted = and_(ArbitrationAlert.tenant_id == ArbitrationCase.tenant_id,
                   ArbitrationAlert.case_id == ArbitrationCase.case_id,
                   ArbitrationAlert.alert_type == ALERT_TYPE, ArbitrationAlert.bucket_start_at == bucket)  # fmt: skip
    rows = session.scalars(
        select(ArbitrationCase)
        .outerjoin(ArbitrationAlert, alerted)
        .where(ArbitrationCase.status != CaseStatus.closed.value,
               ArbitrationCase.opened_at < now - sla_delta(sla_hours), ArbitrationAlert.alert_id.is_(None))
        .order_by(ArbitrationCase.opened_at, ArbitrationCase.tenant_id, ArbitrationCase.case_id)
        .limit(MAX_CASES)
    )  # fmt: skip
    return [
        OverSlaCase(c.tenant_id, c.case_id, c.run_id, c.dispute_id, c.priority, c.status, c.opened_at,
                    int((now - c.opened_at).total_seconds() // 1))
        for c in rows
    ]  # fmt: skip


def pending_over_sla(database_url: str, *, now: datetime, sla_hours: float) -> list[OverSlaCase]:
    """Cases (every tenant) not closed and past opened_at + SLA at `now` with no alert in `now`'s bucket."""
    with database_at_head(database_url) as database, database.transaction() as session:
        return _pending(session, now=now, sla_hours=sla_hours)


def alert_payload(
    case: OverSlaCase, *, now: datetime, sla_hours: float, dagster_run_id: str
) -> dict[str, Any]:
    """CommandCenterAlert.v1's fields for one case, snake_case, with the Dagster run that sent it."""
    bucket = bucket_start(now)
    return {
        "alert_id": alert_id(tenant_id=case.tenant_id, case_id=case.case_id, bucket_start_at=bucket),
        "alert_type": ALERT_TYPE, "severity": "high", "tenant_id": case.tenant_id,
        "metric": "disputes.overSlaCase.ageSeconds", "comparator": ">", "current_value": case.age_seconds,
        "threshold": int(sla_delta(sla_hours).total_seconds()), "message": f"dispute case {case.case_id} over SLA",
        "dimensions": {"case_id": case.case_id, "run_id": case.run_id, "dispute_id": case.dispute_id,
                       "priority": case.priority, "status": case.status},
        "age_seconds": case.age_seconds, "opened_at": case.opened_at.isoformat(),
        "bucket_start_at": bucket.isoformat(), "evaluated_at": now.isoformat(), "dagster_run_id": dagster_run_id,
    }  # fmt: skip


def claim_alerts(database_url: str, *, now: datetime, sla_hours: float, dagster_run_id: str,
                 sink: str) -> list[dict[str, Any]]:  # fmt: skip
    """Record an alert for every over-SLA case without one in this bucket; returns the payloads this call
    claimed (to deliver). A racing run that claimed the same (case, bucket) first wins: the unique key
    refuses the second insert, and its payload is not returned."""
    claimed = []
    with database_at_head(database_url) as database:
        with database.transaction() as session:
            pending = _pending(session, now=now, sla_hours=sla_hours)
        for case in pending:
            payload = alert_payload(case, now=now, sla_hours=sla_hours, dagster_run_id=dagster_run_id)
            try:
                with database.transaction() as session:
                    session.add(ArbitrationAlert(
                        alert_id=payload["alert_id"], tenant_id=case.tenant_id, alert_type=ALERT_TYPE,
                        case_id=case.case_id, bucket_start_at=bucket_start(now), payload=canonical_json(payload),
                        sink=sink, delivery_status="pending", attempts=0, created_at=now,
                    ))  # fmt: skip
            except IntegrityError:
                continue
            claimed.append(payload)
    return claimed


def record_delivery(
    database_url: str, *, alert_id_: str, delivered: bool, attempts: int, at: datetime
) -> None:
    with database_at_head(database_url) as database, database.transaction() as session:
        alert = session.get(ArbitrationAlert, alert_id_)
        if alert is not None:
            alert.delivery_status = "delivered" if delivered else "failed"
            alert.attempts = attempts
            alert.delivered_at = at if delivered else None
