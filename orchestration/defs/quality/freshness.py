"""Freshness of the landing datasets as an asset check on each `raw/<dataset>`: red (severity ERROR) in
the UI when the newest file is older than the upstream's promised delivery interval, as of the run
(quality/freshness.py). Not blocking: the run goes on and the marts show what did arrive; the period
gate refuses to close a month whose exports have not all come in."""

import dagster as dg

from ingestion.contracts import DATASETS
from orchestration.as_of import run_as_of
from orchestration.defs.landing.assets import DATASET_KEYS
from orchestration.resources import WarehouseResource
from quality.freshness import dataset_freshness

CHECK_NAME = "landing_freshness"


@dg.multi_asset_check(
    name="landing_freshness",
    specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=DATASET_KEYS[name],
            description=(
                f"A new `{dataset.folder}/` file at least every {dataset.delivery_interval_hours} h, as "
                "the upstream promises (newest load in raw.load_files, as of the run)."
            ),
        )
        for name, dataset in DATASETS.items()
    ],
    can_subset=True,
)
def landing_freshness(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    as_of = run_as_of(context)
    with warehouse.connect(read_only=True) as db:
        found = dataset_freshness(db)
    for freshness in found:
        key = dg.AssetCheckKey(DATASET_KEYS[freshness.dataset], CHECK_NAME)
        if key not in context.selected_asset_check_keys:
            continue
        newest = freshness.newest_loaded_at
        lag = None if newest is None else round((as_of - newest).total_seconds() / 3600, 1)
        yield dg.AssetCheckResult(
            asset_key=key.asset_key,
            check_name=CHECK_NAME,
            passed=not freshness.is_stale(as_of),
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "newest_file_loaded_at": newest.isoformat() + "Z" if newest else "never",
                "hours_since_newest_file": lag if lag is not None else "n/a",
                "promised_interval_hours": freshness.interval_hours,
                "as_of": as_of.isoformat() + "Z",
            },
        )
