"""settld.warehouse's interface on Spark: reports, publishing, the gate and `period close` read it as they
read DuckDB and Postgres.

The same SQL text runs here: `?` placeholders are bound as Spark SQL literals (settld/spark.py: `bind`;
Spark SQL over Thrift takes no bound parameters), rows come back as dicts of plain Python values with
naive UTC datetimes. Spark's Parquet tables have no row-level delete, so `upsert_rows` (small tables: dbt's
test outcomes) reads the table, replaces the keyed rows in Python and overwrites it in one statement.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from settld.settings import WarehouseTarget
from settld.spark import SparkSQL, bind, spark_sql, sql_literal

# DuckDB/Postgres column types of the warehouse's own DDL (quality/dbt_results.py) on Spark.
_SPARK_TYPES = {"varchar": "string", "text": "string", "bigint": "bigint", "integer": "int",
                "timestamp": "timestamp", "boolean": "boolean", "double": "double", "date": "date"}  # fmt: skip


def spark_ddl(ddl: str) -> str:
    """A `create table if not exists s.t (name type [not null], ...)` statement as a Spark Parquet table."""
    head, body = ddl.split("(", 1)
    body = body[: body.rindex(")")]
    columns = []
    for line in body.split(","):
        words = line.split()
        if len(words) < 2 or words[0] == "primary":
            continue
        columns.append(f"`{words[0]}` {_SPARK_TYPES[words[1].lower()]}")
    return f"{head.strip()} ({', '.join(columns)}) using parquet"


class SparkWarehouse:
    kind = "spark"

    def __init__(self, spark: SparkSQL) -> None:
        self.spark = spark

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        return self.spark.sql(bind(sql, params))

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.query(sql, params)
        return next(iter(rows[0].values())) if rows else None

    def relations(self, schema: str) -> list[str]:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
            raise ValueError(f"not a schema name: {schema}")
        databases = {next(iter(row.values())) for row in self.spark.sql("show databases")}
        if schema not in databases:
            return []
        rows = self.spark.sql(f"show tables in {schema}")
        return sorted(row["tableName"] for row in rows if not row.get("isTemporary"))

    def upsert_rows(
        self, ddl: str, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        self.spark.execute(f"create database if not exists {table.split('.')[0]}")
        self.spark.execute(spark_ddl(ddl))
        if not rows:
            return
        names = ", ".join(columns)
        kept = {
            row[columns[0]]: tuple(row[c] for c in columns)
            for row in self.query(f"select {names} from {table}")
        }
        kept.update({row[0]: tuple(row) for row in rows})
        values = ", ".join(
            "(" + ", ".join(sql_literal(value) for value in row) + ")" for _, row in sorted(kept.items())
        )
        self.spark.execute(f"insert overwrite table {table} ({names}) values {values}")


@contextmanager
def connect_spark(target: WarehouseTarget) -> Iterator[SparkWarehouse]:
    with spark_sql(target) as spark:
        yield SparkWarehouse(spark)
