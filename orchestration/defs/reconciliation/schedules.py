"""Daily reconciliation: load what landed, rebuild the marts, and report the current and previous period."""

from datetime import UTC

import dagster as dg

from orchestration.as_of import AS_OF_TAG
from orchestration.partitions import period_partitions
from settld.core import period_of, previous_period

daily_reconciliation_job = dg.define_asset_job(
    "daily_reconciliation",
    selection=dg.AssetSelection.all(),
    partitions_def=period_partitions,
    description="Landing loads, dbt build and tests, then ReconcileReport.v1 for a range of periods in one run.",
)


def reconciliation_run_request(as_of_utc) -> dg.RunRequest:
    """One run covering the previous and the current period of `as_of_utc`, judged as of that instant."""
    current = period_of(as_of_utc)
    return dg.RunRequest(
        run_key=f"reconciliation-{as_of_utc.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        tags={
            "dagster/asset_partition_range_start": previous_period(current),
            "dagster/asset_partition_range_end": current,
            AS_OF_TAG: as_of_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )


@dg.schedule(
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    job=daily_reconciliation_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 06:00 UTC: reconcile the current and previous period for every tenant.",
)
def daily_reconciliation_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return reconciliation_run_request(context.scheduled_execution_time.astimezone(UTC))
