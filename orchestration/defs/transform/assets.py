"""dbt models as Dagster assets (dagster-dbt), with dbt tests as asset checks."""

import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from api.core.migrate import migrate_database
from orchestration.as_of import dbt_timestamp, run_as_of
from orchestration.defs.transform.project import dbt_project, ensure_manifest
from orchestration.resources import OperatorApiResource, WarehouseResource
from quality.dbt_results import TABLE as TEST_RESULTS_TABLE
from quality.dbt_results import record_test_results
from settld.settings import dbt_vars

ensure_manifest()  # the asset graph is read from the manifest at import time

LAYERS = ("staging", "intermediate", "marts")


class SettldDbtTranslator(DagsterDbtTranslator):
    """Sources keep dbt's default key `raw/<table>` (the landing assets); models are keyed by layer."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey([self._layer(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "landing"
        return self._layer(dbt_resource_props)

    @staticmethod
    def _layer(dbt_resource_props: Mapping[str, Any]) -> str:
        """The first folder under models/ (or `seeds`)."""
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        parts = dbt_resource_props.get("fqn", [])[1:-1]
        return next((part for part in parts if part in LAYERS), "marts")


@dbt_assets(
    manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=SettldDbtTranslator()
)
def settld_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    operator_api: OperatorApiResource,
):
    # `warehouse` is required so its setup points dbt's profile at the configured warehouse.
    if operator_api.enabled:
        # dbt attaches the API's database to read triage: make sure it exists at the current schema
        # (idempotent; on a first run nothing has been published yet).
        migrate_database(operator_api.database_url)
    as_of = run_as_of(context)
    variables = dbt_vars(
        as_of=dbt_timestamp(as_of),
        grace_days=warehouse.grace_days,
        api_database_url=operator_api.database_url,
        warehouse_url=warehouse.url,
    )
    if operator_api.enabled and not (
        variables["operator_api_sqlite_path"] or variables["operator_api_schema"]
    ):
        context.log.warning(
            "the operator API's database cannot be read by dbt from this warehouse (DuckDB reads a SQLite "
            "API file; Postgres reads an API in the same database): the mismatch queue shows no triage"
        )
    context.log.info(f"dbt build as of {as_of.isoformat()}Z")
    invocation = dbt.cli(["build", "--vars", json.dumps(variables)], context=context, raise_on_error=False)
    yield from invocation.stream()
    # Passed or not, the tests' outcomes go to the warehouse for the period gate (quality/dbt_results.py).
    try:
        run_results = invocation.get_artifact("run_results.json")
        manifest = invocation.get_artifact("manifest.json")
    except FileNotFoundError:  # dbt stopped before running anything (e.g. a compilation error)
        run_results, manifest = {}, {}
    with warehouse.connect() as db:
        recorded = record_test_results(db, run_results, manifest, as_of=as_of)
    context.log.info(f"{recorded} dbt test outcomes recorded in {TEST_RESULTS_TABLE}")
    if not invocation.is_successful():
        raise dg.Failure(description="dbt build failed: the failing nodes are in the dbt output above")
