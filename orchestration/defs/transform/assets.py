"""dbt models as Dagster assets (dagster-dbt), with dbt tests as asset checks."""

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from api.core.migrate import assert_schema_at_head
from orchestration.as_of import FULL_REFRESH_TAG, dbt_timestamp, run_as_of
from orchestration.defs.transform.incremental import tables_without_watermark
from orchestration.defs.transform.project import PRODUCTION_BUILD_FLAGS, dbt_project, ensure_manifest
from orchestration.resources import OperatorApiResource, WarehouseResource, dbt_profile_environment
from orchestration.stages import Stage, stage_tags
from quality.dbt_results import TABLE as TEST_RESULTS_TABLE
from quality.dbt_results import record_test_results
from settld.settings import dbt_vars, split_as_of

ensure_manifest()  # the asset graph is read from the manifest at import time

# Each dbt invocation from Dagster writes its own folder under dbt_project/target/ (about 15 MB: manifest,
# run results, compiled SQL, logs). Once the asset has read the results, all but the newest few go, so a
# daily schedule does not fill a disk and the last runs stay there to debug.
KEEP_INVOCATIONS = 3


def prune_invocation_folders(current: Path, *, keep: int) -> int:
    """Remove all but the `keep` newest folders of this asset's invocations (dagster-dbt names them
    `<op>-<run id>-<unique id>`, siblings of `current`), by modification time."""
    op_name = current.name.rsplit("-", 2)[0]
    folders = sorted((p for p in current.parent.glob(f"{op_name}-*-*") if p.is_dir()),
                     key=lambda p: p.stat().st_mtime, reverse=True)  # fmt: skip
    for folder in folders[keep:]:
        shutil.rmtree(folder, ignore_errors=True)
    return len(folders[keep:])


class SettldDbtTranslator(DagsterDbtTranslator):
    """Sources keep dbt's default key `raw/<table>` (the landing assets, or the operator API's tables);
    models and seeds are keyed by their schema (`marts/<model>`, `reference/<seed>`) and grouped by their
    domain folder (`models/marts/reconciliation/` -> group `reconciliation`); all of them run in the
    daily run's transform stage."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "landing"
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        # fqn: [project, layer, domain folder..., model]; a model straight under its layer takes the layer.
        folders = dbt_resource_props.get("fqn", [])[1:-1]
        return folders[1] if len(folders) > 1 else folders[0]

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        return {**super().get_tags(dbt_resource_props), **stage_tags(Stage.transform)}


@dbt_assets(
    manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=SettldDbtTranslator()
)
def settld_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    operator_api: OperatorApiResource,
):
    # dbt reads the API's tables: refuse one not migrated to head (`settld api migrate` is the deploy step).
    assert_schema_at_head(operator_api.database_url)
    as_of = run_as_of(context)
    variables = dbt_vars(
        as_of=dbt_timestamp(as_of),
        grace_days=warehouse.grace_days,
        api_database_url=operator_api.database_url,
        warehouse_url=warehouse.url,
    )
    if warehouse.target.kind == "spark":  # the API's tables reach Spark as a Parquet snapshot
        from ingestion.operator_api_snapshot import snapshot_operator_api

        context.log.info(
            f"operator API snapshot: {snapshot_operator_api(warehouse.target, operator_api.database_url)}"
        )
    if not any(
        variables[k] for k in ("operator_api_sqlite_path", "operator_api_schema", "operator_api_snapshot")
    ):
        context.log.warning(
            "the operator API's database cannot be read by dbt from this warehouse (DuckDB reads a SQLite "
            "API file; Postgres reads an API in the same database): the mismatch queue shows no triage"
        )
    full_refresh = ["--full-refresh"] if context.run.tags.get(FULL_REFRESH_TAG) == "true" else []
    # Spark: never opened before dbt (its session's metastore takes one process); its models are tables.
    if warehouse.target.kind != "spark" and not full_refresh:
        with warehouse.connect() as db:
            if older := tables_without_watermark(db, dbt_project.manifest_path):
                context.log.warning(f"built before they were incremental: {', '.join(older)}: a full refresh")
                full_refresh = ["--full-refresh"]
    context.log.info(f"dbt build as of {as_of.isoformat()}Z{' (full refresh)' if full_refresh else ''}")
    parse_vars, as_of_environment = split_as_of(variables)
    with dbt_profile_environment(warehouse.target, as_of_environment):
        invocation = dbt.cli(
            ["build", "--vars", json.dumps(parse_vars), *PRODUCTION_BUILD_FLAGS, *full_refresh],
            context=context,
            raise_on_error=False,
        )
    yield from invocation.stream()
    # Passed or not, the tests' outcomes go to the warehouse for the period gate (quality/dbt_results.py).
    try:
        run_results = invocation.get_artifact("run_results.json")
        manifest = invocation.get_artifact("manifest.json")
    except FileNotFoundError:  # dbt stopped before running anything (e.g. a compilation error)
        run_results, manifest = {}, {}
    removed = prune_invocation_folders(invocation.target_path, keep=KEEP_INVOCATIONS)
    with warehouse.connect() as db:
        recorded = record_test_results(db, run_results, manifest, as_of=as_of)
    context.log.info(f"{recorded} dbt test outcomes recorded in {TEST_RESULTS_TABLE}; "
                     f"{removed} older dbt invocation folders removed")  # fmt: skip
    if not invocation.is_successful():
        raise dg.Failure(description="dbt build failed: the failing nodes are in the dbt output above")
