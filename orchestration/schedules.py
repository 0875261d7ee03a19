"""The daily run on a clock: at 06:00 UTC the first stage job starts, and each stage that succeeds starts
the next one (a run-status sensor per step of `orchestration.stages.DAILY_RUN`), with the same as-of.

The report stage covers the previous and the current period of the as-of instant (a partition range), so
a month keeps being reconciled for a month after it ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from itertools import pairwise

import dagster as dg

from orchestration.as_of import AS_OF_TAG, parse_as_of
from orchestration.stages import DAILY_RUN, StageJob
from settld.core import period_of, previous_period


def stage_run_request(step: StageJob, as_of_text: str, *, run_key: str | None = None) -> dg.RunRequest:
    """A run of one stage judged as of `as_of_text` (ISO-8601 UTC), over the previous and current period
    when the stage runs over periods."""
    tags = {AS_OF_TAG: as_of_text}
    if step.over_periods:
        current = period_of(parse_as_of(as_of_text).replace(tzinfo=UTC))  # parse_as_of gives naive UTC
        tags["dagster/asset_partition_range_start"] = previous_period(current)
        tags["dagster/asset_partition_range_end"] = current
    return dg.RunRequest(run_key=run_key, job_name=step.job_name, tags=tags)


@dg.schedule(
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    job_name=DAILY_RUN[0].job_name,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 06:00 UTC: the daily run, stage by stage, for every tenant.",
)
def daily_run_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    as_of = context.scheduled_execution_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return stage_run_request(DAILY_RUN[0], as_of, run_key=f"daily-{as_of}")


def daily_run_sensors(jobs: Mapping[str, dg.UnresolvedAssetJobDefinition]) -> list[dg.SensorDefinition]:
    """One run-status sensor per step of the daily run: `jobs` by name, as `stage_jobs()` built them."""
    return [_next_stage_sensor(done, following, jobs) for done, following in pairwise(DAILY_RUN)]


def _next_stage_sensor(
    done: StageJob, following: StageJob, jobs: Mapping[str, dg.UnresolvedAssetJobDefinition]
) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name=f"after_{done.job_name}",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[jobs[done.job_name]],
        request_job=jobs[following.job_name],
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Starts `{following.job_name}` when `{done.job_name}` succeeds, with the same as-of.",
    )
    def start_next(context: dg.RunStatusSensorContext):
        as_of = context.dagster_run.tags.get(AS_OF_TAG)
        if as_of is None:  # a stage started by hand, without an as-of: the chain belongs to the schedule
            return dg.SkipReason(f"{done.job_name} ran without {AS_OF_TAG}")
        return stage_run_request(
            following, as_of, run_key=f"{following.job_name}-{context.dagster_run.run_id}"
        )

    return start_next
