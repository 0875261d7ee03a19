"""Which incremental dbt models a build must rebuild whole before it can go on incrementally.

The incremental models (dbt_project/macros/incremental.sql) find what changed through the
`_loaded_at` watermark of their own rows. A warehouse built before they were incremental holds them as
plain tables without that column, and an incremental build of such a table fails; the daily run rebuilds
them whole once instead (dbt's `--full-refresh`), and says so in its log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from settld.warehouse import Warehouse

WATERMARK = "_loaded_at"


def incremental_tables(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(schema, table) of each model the project configures as incremental (an `incremental_strategy`
    in its config: `materialized` itself is dispatched per engine), from dbt's manifest."""
    return sorted(
        (node["schema"], node["alias"])
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model" and node.get("config", {}).get("incremental_strategy")
    )


def tables_without_watermark(db: Warehouse, manifest_path: Path) -> list[str]:
    """`schema.table` of each incremental model's table that exists without its watermark column (DuckDB
    and Postgres; on Spark they are tables rebuilt whole)."""
    found = []
    for schema, table in incremental_tables(json.loads(Path(manifest_path).read_text())):
        columns = {
            row["column_name"]
            for row in db.query(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                [schema, table],
            )
        }
        if columns and WATERMARK not in columns:
            found.append(f"{schema}.{table}")
    return found
