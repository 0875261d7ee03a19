"""The as-of instant of a run: one value shared by dbt (staleness) and the reports built after it.

A run carries it as the tag `settld/as_of` (ISO-8601 UTC), set by `settld run --as-of` and by the
daily schedule; a run without the tag is judged as of the moment it started.
"""

from datetime import UTC, datetime

import dagster as dg

AS_OF_TAG = "settld/as_of"
# "true": the run's dbt build rebuilds the incremental models whole (`settld run --full-refresh`).
FULL_REFRESH_TAG = "settld/full_refresh"


def parse_as_of(text: str) -> datetime:
    """Naive UTC datetime from ISO-8601 ('Z', an offset, or naive meaning UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def run_as_of(context: dg.AssetExecutionContext) -> datetime:
    tag = context.run.tags.get(AS_OF_TAG)
    if tag:
        return parse_as_of(tag)
    started = context.instance.get_run_stats(context.run_id).start_time
    return (
        datetime.fromtimestamp(started, UTC).replace(tzinfo=None)
        if started
        else datetime.now(UTC).replace(tzinfo=None)
    )


def published_at(context: dg.AssetExecutionContext) -> datetime:
    """The run's as-of as an aware UTC instant: when what a run publishes into the operator API's
    database counts as published (the API stores aware UTC instants)."""
    return run_as_of(context).replace(tzinfo=UTC)


def dbt_timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
