"""A warehouse built before the incremental models existed is rebuilt whole once, not failed."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from ingestion.contracts import DELETION_KEY_COLUMNS
from orchestration.defs.transform.incremental import incremental_tables, tables_without_watermark
from orchestration.defs.transform.project import dbt_project
from settld.settings import warehouse_target
from settld.warehouse import connect


def _missing(path: Path) -> list[str]:
    with connect(warehouse_target(str(path)), read_only=True) as db:
        return tables_without_watermark(db, dbt_project.manifest_path)


def test_only_incremental_tables_without_their_watermark_ask_for_a_full_refresh(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    tables = incremental_tables(json.loads(Path(dbt_project.manifest_path).read_text()))
    # The models configured incremental (dbt_project/macros/incremental.sql): the three key-level
    # reconciliation models, the seven staging models of the kernel's books and the three finance models
    # rebuilt when those change.
    assert len(tables) == 13
    (other_schema, other_table), (schema, table), *_ = tables
    with duckdb.connect(str(path)) as con:
        con.execute("create schema staging; create schema intermediate")
    assert _missing(path) == []  # a fresh warehouse: its first build is whole anyway
    with duckdb.connect(str(path)) as con:
        con.execute(f"create table {schema}.{table} (tenant_id varchar, payout_key varchar)")  # built before
        con.execute(f"create table {other_schema}.{other_table} (provider_id varchar, _loaded_at timestamp)")
        con.execute(
            "create table staging.stg_settlement_kernel__settlements (tenant_id varchar)"
        )  # a table model
    assert _missing(path) == [f"{schema}.{table}"]
    with duckdb.connect(str(path)) as con:
        con.execute(f"alter table {schema}.{table} add column _loaded_at timestamp")
    assert _missing(path) == []


def test_each_incremental_staging_model_is_keyed_by_columns_its_deletions_record() -> None:
    """A key an incremental staging model recomputes must be one `raw.load_deletions` can name when a
    corrected file takes its rows away: its unique key among its dataset's deletion key columns."""
    manifest = json.loads(Path(dbt_project.manifest_path).read_text())
    checked = {}
    for node in manifest["nodes"].values():
        config = node.get("config", {})
        if (
            node["resource_type"] != "model"
            or node["schema"] != "staging"
            or not config.get("incremental_strategy")
        ):
            continue
        (dataset,) = [
            source.split(".")[-1] for source in node["depends_on"]["nodes"]
            if source.startswith("source.") and not source.endswith(".load_deletions")
        ]  # fmt: skip
        checked[dataset] = config["unique_key"]
        assert set(config["unique_key"]) <= set(DELETION_KEY_COLUMNS[dataset]), node["name"]
    assert sorted(checked) == sorted(DELETION_KEY_COLUMNS)
