"""Which incremental dbt models a build must rebuild whole before it can go on incrementally.

The three incremental models (dbt_project/macros/incremental.sql) find what changed through the
`_loaded_at` watermark of their own rows. A warehouse built before they were incremental holds them as
plain tables without that column, and an incremental build of such a table fails; the daily run rebuilds
them whole once instead (dbt's `--full-refresh`), and says so in its log.
"""

from __future__ import annotations

from settld.warehouse import Warehouse

INCREMENTAL_TABLES = (
    ("staging", "stg_settlement_kernel__payout_instructions"),
    ("staging", "stg_money_rails__operations"),
    ("intermediate", "int_reconciliation__payout_keys_matched"),
)
WATERMARK = "_loaded_at"


def tables_without_watermark(db: Warehouse) -> list[str]:
    """`schema.table` of each incremental model's table that exists without its watermark column (DuckDB
    and Postgres; on Spark they are tables rebuilt whole)."""
    found = []
    for schema, table in INCREMENTAL_TABLES:
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
