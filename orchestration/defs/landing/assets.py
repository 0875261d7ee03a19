"""Raw-layer assets: one multi-asset loads the landing zone into `raw.*` through `ingestion.loader`.

The asset keys (`raw/<table>`) are the keys dbt's sources map to, so the UI shows one lineage graph
from landing file to mart. Quarantine and the file ledger are produced by the same load. Each dataset's
metadata names its rejected, duplicate and empty files and its quarantine rate against the contract's
threshold (ingestion.health). Two blocking checks per dataset: `rows_balance` (every row read is loaded
or quarantined) and `landing_healthy` (no file rejected, the quarantine rate within its threshold, at least
its minimum rows loaded). A failed `landing_healthy` fails the load job, so the daily run stops before dbt;
with `SETTLD_KEEP_GOING` it is a warning and the run goes on (the CLI still exits non-zero).
"""

import dagster as dg

from ingestion.contracts import DATASETS
from ingestion.health import DatasetHealth, landing_health
from ingestion.loader import DatasetSummary, load_dataset, open_sink
from orchestration.resources import LandingZoneResource, WarehouseResource
from orchestration.stages import Stage, stage_tags
from settld.warehouse import Warehouse

GROUP = "landing"
DATASET_KEYS = {name: dg.AssetKey(["raw", name]) for name in DATASETS}
QUARANTINE_KEY = dg.AssetKey(["raw", "quarantine"])
LOAD_FILES_KEY = dg.AssetKey(["raw", "load_files"])
LOAD_DELETIONS_KEY = dg.AssetKey(["raw", "load_deletions"])


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


def _load_record_spec(key: dg.AssetKey, description: str) -> dg.AssetSpec:
    """A table the load writes beside the datasets (quarantine, ledger, deletions)."""
    return dg.AssetSpec(
        key, group_name=GROUP, tags=stage_tags(Stage.load), kinds={"duckdb"}, skippable=True,
        description=description,
    )  # fmt: skip


def _check_specs() -> list[dg.AssetCheckSpec]:
    specs = []
    for key in DATASET_KEYS.values():
        specs.append(
            dg.AssetCheckSpec(
                "rows_balance",
                asset=key,
                blocking=True,
                description="Nothing is dropped: every row a loaded file held is either loaded or "
                "quarantined.",
            )
        )
        specs.append(
            dg.AssetCheckSpec(
                "landing_healthy",
                asset=key,
                blocking=True,
                description="The dataset is fit to build on: no file rejected, its quarantine rate within "
                "its threshold, at least its minimum rows loaded (a warning under SETTLD_KEEP_GOING).",
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
        _load_record_spec(
            QUARANTINE_KEY,
            "Rows that broke their contract: dataset, file, row number, reason code, raw payload.",
        ),
        _load_record_spec(
            LOAD_FILES_KEY,
            "Ledger of landing files: sha256, status (loaded, rejected, duplicate), reason and row counts per "
            "file; makes reloads idempotent.",
        ),
        _load_record_spec(
            LOAD_DELETIONS_KEY,
            "The keys of rows that left raw (a corrected file replaced them, or a file is now rejected), with "
            "when: what the incremental dbt models recompute besides the new rows.",
        ),
    ],
    check_specs=_check_specs(),
    can_subset=True,
)
def landing_zone(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingZoneResource
):
    selected = [name for name, key in DATASET_KEYS.items() if key in context.selected_asset_keys]
    summaries = {}
    with open_sink(warehouse.target) as sink:
        for name in selected:
            summaries[name] = load_dataset(sink, landing.directory, DATASETS[name])
            context.log.info(f"{name}: {summaries[name].as_metadata()}")
            for line in summaries[name].warnings:
                context.log.warning(f"{name}: {line}")
    with warehouse.connect(read_only=True) as db:
        health = landing_health(
            db, selected, max_quarantine_rate=landing.max_quarantine_rate, min_rows=landing.min_rows
        )
        yield from _dataset_results(context, summaries, health, keep_going=landing.keep_going)
        yield from _quarantine_results(context, db, selected)


def _dataset_results(
    context: dg.AssetExecutionContext,
    summaries: dict[str, DatasetSummary],
    health: dict[str, DatasetHealth],
    *,
    keep_going: bool,
):
    """Per dataset: this load's figures with the raw layer's health, the check that nothing is dropped and
    the check that the dataset is fit to build on."""
    for name, summary in summaries.items():
        verdict = health[name]
        for line in verdict.problems + (verdict.reason_samples if verdict.over_threshold else []):
            context.log.error(line)
        metadata = {**summary.as_metadata(), **verdict.as_metadata()}
        yield dg.MaterializeResult(
            asset_key=DATASET_KEYS[name],
            metadata={**metadata, "dagster/row_count": summary.table_rows},
        )
        yield dg.AssetCheckResult(
            asset_key=DATASET_KEYS[name],
            check_name="rows_balance",
            passed=summary.balanced and not verdict.unbalanced,
            metadata={k: metadata[k] for k in ("rows_in", "rows_loaded", "rows_quarantined")},
        )
        yield dg.AssetCheckResult(
            asset_key=DATASET_KEYS[name],
            check_name="landing_healthy",
            passed=not verdict.problems,
            severity=dg.AssetCheckSeverity.WARN if keep_going else dg.AssetCheckSeverity.ERROR,
            metadata={
                "problems": verdict.problems,
                "rejected_files": {f.source_file: f"{f.reason}: {f.reason_detail}" for f in verdict.rejected},
                "quarantine_rate": metadata["quarantine_rate"],
                "max_quarantine_rate": verdict.max_quarantine_rate,
                "rows_loaded": verdict.rows_loaded,
                "min_rows": verdict.min_rows,
                "top_quarantine_reasons": verdict.reason_samples,
            },
        )


def _quarantine_results(context: dg.AssetExecutionContext, db: Warehouse, selected: list[str]):
    for name in selected:
        in_quarantine = db.scalar("select count(*) from raw.quarantine where dataset = ?", [name])
        yield dg.AssetCheckResult(
            asset_key=DATASET_KEYS[name],
            check_name="no_quarantined_rows",
            passed=in_quarantine == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"rows_in_quarantine": in_quarantine},
        )
    if QUARANTINE_KEY in context.selected_asset_keys:
        reasons = db.query(
            "select dataset, reason_code, count(*) as row_count from raw.quarantine "
            "group by dataset, reason_code order by dataset, reason_code"
        )
        yield dg.MaterializeResult(
            asset_key=QUARANTINE_KEY,
            metadata={
                "dagster/row_count": sum(r["row_count"] for r in reasons),
                "by_dataset_and_reason": {
                    f"{r['dataset']}/{r['reason_code']}": r["row_count"] for r in reasons
                },
            },
        )
    if LOAD_FILES_KEY in context.selected_asset_keys:
        statuses = db.query(
            "select status, count(*) as files from raw.load_files group by status order by status"
        )
        yield dg.MaterializeResult(
            asset_key=LOAD_FILES_KEY,
            metadata={
                "dagster/row_count": sum(r["files"] for r in statuses),
                "files_by_status": {r["status"]: r["files"] for r in statuses},
            },
        )
    if LOAD_DELETIONS_KEY in context.selected_asset_keys and "load_deletions" in db.relations("raw"):
        (deleted,) = db.query("select count(*) as keys from raw.load_deletions")
        yield dg.MaterializeResult(
            asset_key=LOAD_DELETIONS_KEY, metadata={"dagster/row_count": deleted["keys"]}
        )
