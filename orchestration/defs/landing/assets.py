"""Raw-layer assets: one multi-asset loads the landing zone into `raw.*` through `ingestion.loader`.

The asset keys (`raw/<table>`) are the keys dbt's sources map to, so the UI shows one lineage graph
from landing file to mart. Quarantine and the file registry are produced by the same load.
"""

import dagster as dg

from ingestion.contracts import DATASETS
from ingestion.loader import load_dataset, open_sink
from orchestration.resources import LandingZoneResource, WarehouseResource
from orchestration.stages import Stage, stage_tags

GROUP = "landing"
DATASET_KEYS = {name: dg.AssetKey(["raw", name]) for name in DATASETS}
QUARANTINE_KEY = dg.AssetKey(["raw", "quarantine"])
LOAD_FILES_KEY = dg.AssetKey(["raw", "load_files"])


def _dataset_spec(name: str) -> dg.AssetSpec:
    dataset = DATASETS[name]
    return dg.AssetSpec(
        DATASET_KEYS[name],
        group_name=GROUP,
        tags=stage_tags(Stage.load),
        description=f"{dataset.description} Loaded from `{dataset.folder}/` in the landing zone.",
        kinds={"duckdb", "python"},
        metadata={"dagster/table_name": f"raw.{name}", "natural_key": ", ".join(dataset.natural_key)},
        skippable=True,
    )


def _check_specs() -> list[dg.AssetCheckSpec]:
    specs = []
    for key in DATASET_KEYS.values():
        specs.append(
            dg.AssetCheckSpec(
                "rows_balance",
                asset=key,
                blocking=True,
                description="Every row read is either loaded or quarantined: nothing is dropped.",
            )
        )
        specs.append(
            dg.AssetCheckSpec(
                "no_quarantined_rows",
                asset=key,
                description="Warns when rows of this dataset sit in quarantine (see raw.quarantine).",
            )
        )
    return specs


@dg.multi_asset(
    name="landing_zone",
    specs=[
        *(_dataset_spec(name) for name in DATASETS),
        dg.AssetSpec(
            QUARANTINE_KEY,
            group_name=GROUP,
            tags=stage_tags(Stage.load),
            kinds={"duckdb"},
            skippable=True,
            description="Rows that broke their contract: dataset, file, row number, reason code, raw payload.",
        ),
        dg.AssetSpec(
            LOAD_FILES_KEY,
            group_name=GROUP,
            tags=stage_tags(Stage.load),
            kinds={"duckdb"},
            skippable=True,
            description="Registry of loaded landing files with their sha256: makes reloads idempotent.",
        ),
    ],
    check_specs=_check_specs(),
    can_subset=True,
)
def landing_zone(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingZoneResource
):
    selected = [name for name, key in DATASET_KEYS.items() if key in context.selected_asset_keys]
    with open_sink(warehouse.target) as sink:
        for name in selected:
            summary = load_dataset(sink, landing.directory, DATASETS[name])
            context.log.info(f"{name}: {summary.as_metadata()}")
            metadata = summary.as_metadata()
            yield dg.MaterializeResult(
                asset_key=DATASET_KEYS[name],
                metadata={**metadata, "dagster/row_count": summary.table_rows},
            )
            yield dg.AssetCheckResult(
                asset_key=DATASET_KEYS[name],
                check_name="rows_balance",
                passed=summary.balanced,
                metadata={k: metadata[k] for k in ("rows_in", "rows_loaded", "rows_quarantined")},
            )
    with warehouse.connect(read_only=True) as db:
        for name in selected:
            in_quarantine = db.scalar("select count(*) from raw.quarantine where dataset = ?", [name])
            yield dg.AssetCheckResult(
                asset_key=DATASET_KEYS[name],
                check_name="no_quarantined_rows",
                passed=in_quarantine == 0,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"rows_in_quarantine": in_quarantine},
            )
        reasons = [
            (row["dataset"], row["reason_code"], row["row_count"])
            for row in db.query(
                "select dataset, reason_code, count(*) as row_count from raw.quarantine "
                "group by dataset, reason_code order by dataset, reason_code"
            )
        ]
        files = db.scalar("select count(*) from raw.load_files")
    if QUARANTINE_KEY in context.selected_asset_keys:
        yield dg.MaterializeResult(
            asset_key=QUARANTINE_KEY,
            metadata={
                "dagster/row_count": sum(r[2] for r in reasons),
                "by_dataset_and_reason": {f"{d}/{r}": n for d, r, n in reasons},
            },
        )
    if LOAD_FILES_KEY in context.selected_asset_keys:
        yield dg.MaterializeResult(asset_key=LOAD_FILES_KEY, metadata={"dagster/row_count": files})
