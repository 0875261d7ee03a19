"""The operator API's tables as a Parquet snapshot, for a warehouse that cannot read the API's database.

DuckDB attaches the API's SQLite file and Postgres reads its schema in place; a Spark cluster reads
neither. So a Spark run writes, before dbt builds (after the stages that write the API: billing ingestion),
every table dbt reads from the API (the source `operator_api` in
dbt_project/models/staging/operator_api/_operator_api__sources.yml) as Parquet into
`SETTLD_SPARK_DIR/operator_api/<table>/`, registered as the table `operator_api.<table>` with the same
columns, and dbt reads it with the var `operator_api_snapshot` = 'true' (SPARK.md).

Deterministic: rows ordered by the table's primary key (else by every column), JSON columns as the text
the API stored, datetimes as naive UTC, and no write time in the files. A table the API's database does not
lacks (a migration behind) is left out and reported as None, never a crash (`settld run` checks first
that the API's database is at head).
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
import yaml

from settld.settings import DBT_PROJECT_DIR, WarehouseTarget
from settld.spark import SparkSQL, spark_dir, spark_sql

SOURCES_YML = DBT_PROJECT_DIR / "models" / "staging" / "operator_api" / "_operator_api__sources.yml"
DATABASE = "operator_api"


def snapshot_tables() -> list[str]:
    """The API's tables dbt reads, as the dbt source lists them."""
    sources = yaml.safe_load(SOURCES_YML.read_text())["sources"]
    return sorted(t["name"] for s in sources if s["name"] == DATABASE for t in s["tables"])


def _types(column_type: sa.types.TypeEngine) -> tuple[pa.DataType, str]:
    """The Arrow type written and the Spark type registered for one of the API's column types."""
    if isinstance(column_type, sa.Boolean):
        return pa.bool_(), "boolean"
    if isinstance(column_type, sa.Integer):
        return pa.int64(), "bigint"
    if isinstance(column_type, sa.DateTime):
        return pa.timestamp("us"), "timestamp"
    if isinstance(column_type, sa.Date):
        return pa.date32(), "date"
    if isinstance(column_type, sa.Float):
        return pa.float64(), "double"
    if isinstance(column_type, sa.Numeric):
        scale = column_type.scale or 0
        return pa.decimal128(38, scale), f"decimal(38,{scale})"
    return pa.string(), "string"


def _value(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _read_table(engine: sa.Engine, name: str) -> tuple[pa.Table, list[tuple[str, str]]]:
    table = sa.Table(name, sa.MetaData(), autoload_with=engine)
    typed = [(column, *_types(column.type)) for column in table.columns]
    # JSON (and every other non-scalar type) as the text the API stored, not as a re-serialized value.
    selected = [
        sa.type_coerce(column, sa.String()) if spark_type == "string" else column
        for column, _, spark_type in typed
    ]
    order = list(table.primary_key.columns) or list(table.columns)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(*selected).order_by(*order)).all()
    arrays = {
        column.name: pa.array([_value(row[i]) for row in rows], type=arrow)
        for i, (column, arrow, _) in enumerate(typed)
    }
    schema = pa.schema([(column.name, arrow) for column, arrow, _ in typed])
    return pa.table(arrays, schema=schema), [(column.name, spark) for column, _, spark in typed]


def write_snapshot(
    api_database_url: str, folder: Path, spark: SparkSQL | None = None
) -> dict[str, int | None]:
    """Write each table's snapshot under `folder/operator_api/` and register it in `spark` (when given);
    rows per table, None for a table the API's database lacks."""
    url = api_database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url)
    existing = set(sa.inspect(engine).get_table_names())
    counts: dict[str, int | None] = {}
    if spark is not None:
        spark.execute(f"create database if not exists {DATABASE}")
    staging = folder / "staging-area"
    staging.mkdir(parents=True, exist_ok=True)
    try:
        for name in snapshot_tables():
            if name not in existing:
                counts[name] = None
                continue
            table, columns = _read_table(engine, name)
            final = folder / DATABASE / name / "snapshot.parquet"
            final.parent.mkdir(parents=True, exist_ok=True)
            staged = staging / f"{uuid.uuid4().hex}.parquet"
            pq.write_table(table, staged, compression="zstd")
            os.replace(staged, final)  # one table at a time, atomically
            counts[name] = table.num_rows
            if spark is not None:
                body = ", ".join(f"`{column}` {spark_type}" for column, spark_type in columns)
                spark.execute(f"drop table if exists {DATABASE}.{name}")  # the API's columns may change
                spark.execute(
                    f"create table {DATABASE}.{name} ({body}) using parquet "
                    f"location '{final.parent.as_uri()}'"
                )
    finally:
        engine.dispose()
    return counts


def snapshot_operator_api(target: WarehouseTarget, api_database_url: str) -> dict[str, int | None]:
    """The snapshot of a Spark run, written and registered on the target's Spark."""
    with spark_sql(target) as spark:
        return write_snapshot(api_database_url, spark_dir(target), spark)
