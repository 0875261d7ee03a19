"""Copy a DuckDB warehouse's raw layer (and the operator API's tables) into a local Spark warehouse, for
building the dbt project on Spark before the loader writes Spark itself.

    python -m devtools.spark_from_duckdb WAREHOUSE.duckdb SPARK_DIR [--api-sqlite settld-api.sqlite3]

Every table of the DuckDB schema `raw` is written as Parquet under SPARK_DIR/parquet/raw/<table>/ and
registered as the table `raw.<table>` in the Spark session whose warehouse directory and Derby metastore
are in SPARK_DIR (the dbt profile's `spark` target with SETTLD_SPARK_DIR=SPARK_DIR reads the same
metastore). With --api-sqlite, every table of the operator API's SQLite file becomes `operator_api.<table>`
(what the var `operator_api_snapshot` promises dbt). Timestamps are naive UTC in DuckDB and land as Spark
TIMESTAMPs read in the session time zone, which is UTC. Only one process can open the Derby metastore:
this one stops its session before it returns.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import duckdb

from settld.settings import duckdb_sqlite_extension


def spark_session(spark_dir: Path):  # noqa: ANN201 (pyspark is optional at import time)
    """A local Spark session configured as the dbt profile's `spark` target (dbt_project/profiles.yml)."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .enableHiveSupport()
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(spark_dir / "tables"))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={spark_dir}/metastore/metastore_db;create=true",
        )
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={spark_dir}/metastore")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        # DuckDB writes naive timestamps; read them as Spark's TIMESTAMP (an instant in the UTC session).
        .config("spark.sql.parquet.inferTimestampNTZ.enabled", "false")
        .getOrCreate()
    )


def export_parquet(con: duckdb.DuckDBPyConnection, catalog_schema: str, folder: Path) -> list[str]:
    """Write each table of `catalog_schema` (e.g. `raw`, `operator_api.main`) to folder/<table>/data.parquet."""
    catalog, _, schema = catalog_schema.rpartition(".")
    where = f"table_schema = '{schema}'" + (f" and table_catalog = '{catalog}'" if catalog else "")
    tables = [
        row[0]
        for row in con.sql(
            f"select table_name from information_schema.tables where {where} order by 1"
        ).fetchall()
    ]
    for table in tables:
        target = folder / table
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        con.execute(
            f"copy (select * from {catalog_schema}.{table}) to '{target / 'data.parquet'}' (format parquet)"
        )
    return tables


def register(spark, database: str, folder: Path, tables: list[str]) -> None:  # noqa: ANN001
    spark.sql(f"create database if not exists {database}")
    for table in tables:
        spark.sql(f"drop table if exists {database}.{table}")
        spark.sql(f"create table {database}.{table} using parquet location '{folder / table}'")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("duckdb_path", type=Path)
    parser.add_argument("spark_dir", type=Path)
    parser.add_argument("--api-sqlite", type=Path, default=None)
    args = parser.parse_args()
    spark_dir = args.spark_dir.resolve()
    parquet = spark_dir / "parquet"

    con = duckdb.connect(str(args.duckdb_path), read_only=True)
    exported = {"raw": export_parquet(con, "raw", parquet / "raw")}
    if args.api_sqlite:
        con.execute(f"load '{duckdb_sqlite_extension()}'")
        con.execute(f"attach '{args.api_sqlite}' as operator_api (type sqlite, read_only)")
        exported["operator_api"] = export_parquet(con, "operator_api.main", parquet / "operator_api")
    con.close()

    spark = spark_session(spark_dir)
    try:
        for database, tables in exported.items():
            register(spark, database, parquet / database, tables)
            print(f"{database}: {len(tables)} tables")
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
