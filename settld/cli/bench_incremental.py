"""The bench's incremental case (issue 22): one new day on a loaded warehouse, then a full refresh.

After the full `settld run`, one day of new deliveries lands: a thirtieth of the last period's payout
keys again, under new keys (`<key>:next-day`), with their operations (new operation ids). `settld run`
on the same warehouse then loads only those files and rebuilds only the keys they touch; `settld run
--full-refresh` on the very same files rebuilds everything, and the marts of the two must have the same
digests (`settld warehouse digest`). The incremental run's time is compared with the full run's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

NEXT_DAY = "next-day"
SHARE = 30  # one day of a month
TARGET_SHARE_OF_FULL_RUN = 0.10


def write_next_day(landing: Path, period: str) -> dict[str, int]:
    """New-day files beside the landing zone's own, in Parquet; rows written per dataset."""
    chosen = f"hash(payout_key) % {SHARE} = 0"
    renamed = f"payout_key || ':{NEXT_DAY}' as payout_key"
    plans = {
        "payout_instructions": f"select * replace ({renamed}) from read_parquet(?) where {chosen}",
        "money_rail_operations": (
            f"select * replace ({renamed}, operation_id || ':{NEXT_DAY}' as operation_id) "
            f"from read_parquet(?) where payout_key is not null and {chosen}"
        ),
    }
    written = {}
    with duckdb.connect() as con:
        for folder, query in plans.items():
            sources = sorted(str(p) for p in (landing / folder).glob(f"*{period}*.parquet"))
            target = landing / folder / f"{folder}-{period}-{NEXT_DAY}.parquet"
            con.execute(f"copy ({query}) to '{target}' (format parquet)", [sources])
            (written[folder],) = con.execute("select count(*) from read_parquet(?)", [str(target)]).fetchone()
    return written


def measure_incremental(
    *,
    landing: Path,
    period: str,
    run: Callable[[str, list[str]], dict],
    digest: Callable[[], list[str]],
    full_run_seconds: float,
) -> dict:
    """`run(name, extra_arguments)` times `settld run` on the bench's warehouse; `digest()` gives its mart
    digests."""
    rows = write_next_day(landing, period)
    incremental = run("incremental", [])
    incremental_marts = digest()
    refresh = run("full-refresh", ["--full-refresh"])
    refreshed_marts = digest()
    share = round(incremental["seconds"] / full_run_seconds, 3)
    return {
        "new_day_rows": rows,
        "incremental_run": incremental,
        "full_refresh_run": refresh,
        "same_marts_as_full_refresh": incremental_marts == refreshed_marts,
        "marts_compared": len(refreshed_marts),
        "share_of_full_run": share,
        "target_share_of_full_run": TARGET_SHARE_OF_FULL_RUN,
        "target_met": share <= TARGET_SHARE_OF_FULL_RUN,
    }
