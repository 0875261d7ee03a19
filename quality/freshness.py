"""Is each landing dataset still being delivered? Judged from the file registry (`raw.load_files`): the
newest file's load time, against what the upstream promises (`Dataset.delivery_interval_hours`).

Two questions, two checks:
- **as of a run** (`stale_datasets`, the Dagster asset check `landing_freshness`): a dataset whose newest
  file is older than its promised interval has stopped arriving. Red in the UI; the run goes on, so the
  marts still show what did arrive.
- **for a period** (`period_freshness_check`, in the period gate): a month can be closed only once every
  dataset has delivered a file after the month ended, i.e. the exports that cover its last days are in.
  Its details name datasets only (never load times), so a verdict stays reproducible.

Reloading an unchanged file keeps its first load time, so only new files make a dataset fresh; only files
whose rows are in raw count (status `loaded`): a rejected or duplicate file is not a delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ingestion.contracts import DATASETS
from settld.core import period_bounds
from settld.warehouse import Warehouse


@dataclass(frozen=True)
class Freshness:
    dataset: str
    newest_loaded_at: datetime | None  # naive UTC; None: no file ever loaded
    interval_hours: int

    def is_stale(self, as_of: datetime) -> bool:
        """As of `as_of` (naive UTC): no file within the promised interval."""
        if self.newest_loaded_at is None:
            return True
        return as_of - self.newest_loaded_at > timedelta(hours=self.interval_hours)


def dataset_freshness(db: Warehouse) -> list[Freshness]:
    newest = {
        row["dataset"]: row["newest"]
        for row in db.query(
            "select dataset, max(loaded_at) as newest from raw.load_files where status = 'loaded' "
            "group by dataset"
        )
    }
    return [
        Freshness(name, newest.get(name), dataset.delivery_interval_hours)
        for name, dataset in DATASETS.items()
    ]


def delivered_after(freshness: Freshness, moment: datetime) -> bool:
    return freshness.newest_loaded_at is not None and freshness.newest_loaded_at >= moment


def period_freshness_details(db: Warehouse, *, period: str) -> tuple[bool, dict]:
    """Whether every dataset delivered a file after `period` ended, with the datasets that did not."""
    end = period_bounds(period)[1].replace(tzinfo=None)
    waiting = sorted(f.dataset for f in dataset_freshness(db) if not delivered_after(f, end))
    return not waiting, {"datasetsWithoutDeliveryAfterPeriodEnd": waiting, "datasets": sorted(DATASETS)}
