"""Housekeeping of the operator API's database on a clock: expired idempotency records are purged daily.

A stored Idempotency-Key response is replayed for the retention (`SETTLD_API_IDEMPOTENCY_RETENTION_HOURS`,
24 h by default, as Stripe keeps keys) and ignored after it; this job deletes what has expired, as
`settld api purge` does by hand. It is an op, not an asset: it produces no data anyone reads.
"""

import dagster as dg

from api.core.database import utc_now
from api.core.settings import ApiSettings
from api.idempotency.purge import purge_idempotency_records
from orchestration.resources import OperatorApiResource


@dg.op(description="Delete idempotency records older than the retention (their keys are no longer replayed).")
def purge_expired_idempotency_records(
    context: dg.OpExecutionContext, operator_api: OperatorApiResource
) -> int:
    settings = ApiSettings(database_url=operator_api.database_url)
    retention = settings.idempotency_retention
    deleted = purge_idempotency_records(settings.database_url, now=utc_now(), retention=retention)
    context.log.info(f"purged {deleted} idempotency record(s) older than {retention}")
    return deleted


@dg.job(
    name="purge_idempotency_records", description="Purge expired idempotency records of the operator API."
)
def purge_idempotency_records_job() -> None:
    purge_expired_idempotency_records()


purge_idempotency_records_schedule = dg.ScheduleDefinition(
    name="purge_idempotency_records_daily",
    job=purge_idempotency_records_job,
    cron_schedule="30 5 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 05:30 UTC, before the daily run: purge expired idempotency records.",
)
