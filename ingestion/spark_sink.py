"""Writes checked landing files into a Spark warehouse as Parquet: raw tables, quarantine and the ledger.

The contract check is the same DuckDB query as for the other engines (ingestion.validation), run in an
in-memory DuckDB beside the load, which also writes the Parquet. Spark only registers the tables: each of
`raw.<dataset>`, `raw.quarantine` and `raw.load_files` is an external Parquet table over a folder of
`SETTLD_SPARK_DIR/raw/` (read recursively), laid out by dataset and period:

    raw/<dataset>/period=<YYYY-MM>/<file key>-<sha>.parquet                the file's loaded rows
    raw/quarantine/dataset=<dataset>/period=<YYYY-MM>/<file key>-<sha>.parquet   its quarantined rows
    raw/load_files/dataset=<dataset>/<file key>.parquet                    its ledger row

The file key is a hash of the landing path, the period the last YYYY-MM of that path (`none` without
one), the sha the file's sha256. Every Parquet file is written into `staging-area/` and renamed into place
(a rename within one file system is atomic), the ledger row last. A file therefore counts as loaded only
when its ledger row names its sha; `sweep()`, run when the sink opens, deletes any rows or quarantine file
whose sha no `loaded` ledger row names (what a crash between two renames leaves), so raw holds each file
fully with its ledger row or not at all, as on DuckDB and Postgres.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from ingestion.contracts import (
    DATASETS,
    LOAD_DELETIONS_ADDED_COLUMNS,
    LOAD_DELETIONS_DDL,
    LOAD_FILES_ADDED_COLUMNS,
    LOAD_FILES_COLUMNS,
    LOAD_FILES_DDL,
    QUARANTINE_DDL,
    Dataset,
    raw_table_columns,
)
from ingestion.intake import CHECKED_ROWS
from ingestion.ledger import LedgerEntry, check_balance
from ingestion.validation import ValidationScratch, literal, quote
from settld.settings import WarehouseTarget
from settld.spark import SparkSQL, spark_dir, spark_sql

SPARK_TYPES = {"varchar": "string", "bigint": "bigint", "timestamp": "timestamp", "boolean": "boolean"}
STAGING_FOLDER = "staging-area"
_PERIOD = re.compile(r"(\d{4}-\d{2})")


def _columns_of(ddl: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of a `create table` statement's columns (contracts' QUARANTINE_DDL, ...)."""
    body = ddl[ddl.index("(") + 1 : ddl.rindex(")")]
    columns = []
    for line in body.split(","):
        words = line.split()
        if len(words) >= 2 and words[0] != "primary":
            columns.append((words[0], words[1]))
    return columns


QUARANTINE_COLUMNS = _columns_of(QUARANTINE_DDL)
# Registered and left empty: Spark's models are tables rebuilt whole, which never read past deletions.
DELETIONS_COLUMNS = [*_columns_of(LOAD_DELETIONS_DDL), *LOAD_DELETIONS_ADDED_COLUMNS]
LEDGER_COLUMNS = [
    *_columns_of(LOAD_FILES_DDL),
    *((name, sql_type.split()[0]) for name, sql_type in LOAD_FILES_ADDED_COLUMNS),
]
assert [name for name, _ in LEDGER_COLUMNS] == list(LOAD_FILES_COLUMNS)


def file_key(source_file: str) -> str:
    return hashlib.sha256(source_file.encode("utf-8")).hexdigest()[:20]


def file_period(source_file: str) -> str:
    found = _PERIOD.findall(source_file)
    return found[-1] if found else "none"


def spark_table_ddl(table: str, columns: list[tuple[str, str]], location: Path) -> str:
    body = ", ".join(f"`{name}` {SPARK_TYPES[sql_type]}" for name, sql_type in columns)
    return (
        f"create table if not exists {table} ({body}) using parquet "
        f"options (recursiveFileLookup 'true') location '{location.as_uri()}'"
    )


def _select_as(columns: list[tuple[str, str]], values: list[str]) -> str:
    return ", ".join(
        f"cast({value} as {sql_type}) as {quote(name)}"
        for (name, sql_type), value in zip(columns, values, strict=True)
    )


class SparkSink:
    """A Spark warehouse as a load target: Parquet under `SETTLD_SPARK_DIR/raw`, tables in database `raw`."""

    kind = "spark"

    def __init__(self, folder: Path, spark: SparkSQL) -> None:
        self.raw = folder / "raw"
        self.staging = folder / STAGING_FOLDER
        self.spark = spark
        self._scratch = ValidationScratch()
        self.validation = self._scratch.connection
        self._schema_ready = False

    def close(self) -> None:
        self._scratch.close()

    # --- where each file's Parquet goes -----------------------------------------------------------------
    def _rows_path(self, dataset: str, source_file: str, sha: str) -> Path:
        name = f"{file_key(source_file)}-{sha[:16]}.parquet"
        return self.raw / dataset / f"period={file_period(source_file)}" / name

    def _quarantine_path(self, dataset: str, source_file: str, sha: str) -> Path:
        name = f"{file_key(source_file)}-{sha[:16]}.parquet"
        period = f"period={file_period(source_file)}"
        return self.raw / "quarantine" / f"dataset={dataset}" / period / name

    def _ledger_path(self, dataset: str, source_file: str) -> Path:
        return self.raw / "load_files" / f"dataset={dataset}" / f"{file_key(source_file)}.parquet"

    def _file_rows(self, dataset: str, source_file: str) -> list[Path]:
        """Every rows and quarantine file the path carried, whatever its sha."""
        key = file_key(source_file)
        period = f"period={file_period(source_file)}"
        folders = [self.raw / dataset / period, self.raw / "quarantine" / f"dataset={dataset}" / period]
        return sorted(p for folder in folders if folder.is_dir() for p in folder.glob(f"{key}-*.parquet"))

    @contextmanager
    def _staged(self, final: Path) -> Iterator[Path]:
        """A path in the staging area, renamed onto `final` when the block succeeds."""
        self.staging.mkdir(parents=True, exist_ok=True)
        staged = self.staging / f"{uuid.uuid4().hex}.parquet"
        try:
            yield staged
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, final)
        finally:
            staged.unlink(missing_ok=True)

    def _copy(self, select_sql: str, final: Path, params: list[Any] | None = None) -> int:
        with self._staged(final) as staged:
            (written,) = self.validation.execute(
                f"copy ({select_sql}) to {literal(str(staged))} (format parquet, compression zstd)",
                params or [],
            ).fetchone()
        return written

    # --- the Sink protocol (ingestion.loader) -----------------------------------------------------------
    def ensure_raw_schema(self) -> None:
        """Register `raw`'s tables over their folders (once per sink) and sweep what a crash left."""
        if self._schema_ready:
            return
        self.spark.execute("create database if not exists raw")
        tables = {name: (raw_table_columns(dataset), self.raw / name) for name, dataset in DATASETS.items()}
        tables["quarantine"] = (QUARANTINE_COLUMNS, self.raw / "quarantine")
        tables["load_files"] = (LEDGER_COLUMNS, self.raw / "load_files")
        tables["load_deletions"] = (DELETIONS_COLUMNS, self.raw / "load_deletions")
        for name, (columns, folder) in tables.items():
            folder.mkdir(parents=True, exist_ok=True)
            registered = self._registered_columns(name)
            if registered is not None and registered != [c for c, _ in columns]:
                # A newer contract or ledger added columns: an external table's definition is redrawn,
                # its files stay (older files read the new columns as null).
                self.spark.execute(f"drop table raw.{name}")
            self.spark.execute(spark_table_ddl(f"raw.{name}", columns, folder))
        self.sweep()
        self._schema_ready = True

    def _registered_columns(self, table: str) -> list[str] | None:
        names = {row["tableName"] for row in self.spark.sql("show tables in raw")}
        if table not in names:
            return None
        return [row["col_name"] for row in self.spark.sql(f"describe raw.{table}") if row["col_name"]]

    def sweep(self) -> None:
        """Delete each rows or quarantine file no `loaded` ledger row names (a crash between renames)."""
        kept = {
            f"{file_key(e.source_file)}-{e.file_sha256[:16]}.parquet"
            for dataset in DATASETS
            for e in self.ledger(dataset).values()
            if e.status == "loaded"
        }
        for folder in [self.raw / name for name in DATASETS] + [self.raw / "quarantine"]:
            for path in sorted(folder.rglob("*.parquet")) if folder.is_dir() else []:
                if path.name not in kept:
                    path.unlink()

    def ledger(self, dataset: str) -> dict[str, LedgerEntry]:
        folder = self.raw / "load_files" / f"dataset={dataset}"
        if not folder.is_dir() or not any(folder.glob("*.parquet")):
            return {}
        fields = ", ".join(LedgerEntry.__dataclass_fields__)
        rows = self.validation.execute(
            f"select {fields} from read_parquet(?) where dataset = ?", [str(folder / "*.parquet"), dataset]
        ).fetchall()
        return {row[0]: LedgerEntry(*row) for row in rows}

    def _write_entry(self, dataset: str, entry: LedgerEntry, loaded_at: datetime) -> None:
        values = {"dataset": dataset, "loaded_at": loaded_at, **entry.__dict__}
        select = "select " + _select_as(LEDGER_COLUMNS, ["?"] * len(LEDGER_COLUMNS))
        self._copy(
            select, self._ledger_path(dataset, entry.source_file), [values[n] for n in LOAD_FILES_COLUMNS]
        )

    def replace_file_rows(self, *, dataset: Dataset, entry: LedgerEntry, loaded_at: datetime) -> LedgerEntry:
        """Write the file's rows and quarantine, then its ledger row, then remove what it carried before."""
        before = self._file_rows(dataset.name, entry.source_file)
        contract = [quote(c.name) for c in dataset.columns] + (
            ["_raw_payload"] if dataset.keep_payload else []
        )
        meta = [literal(entry.source_file), "_source_row", literal(entry.file_sha256), "?"]
        rows_sql = (
            f"select {_select_as(raw_table_columns(dataset), contract + meta)} "
            f"from {CHECKED_ROWS} where _reject_code is null order by _source_row"
        )
        rows_path = self._rows_path(dataset.name, entry.source_file, entry.file_sha256)
        loaded = self._copy(rows_sql, rows_path, [loaded_at])
        quarantined = self.validation.execute(
            f"select count(*) from {CHECKED_ROWS} where _reject_code is not null"
        ).fetchone()[0]
        quarantine_path = self._quarantine_path(dataset.name, entry.source_file, entry.file_sha256)
        try:
            check_balance(entry.rows_in, loaded, quarantined)
            if quarantined:
                values = [literal(dataset.name), literal(entry.source_file), literal(entry.file_sha256),
                          "_source_row", "_reject_code", "_reject_column", "_raw_payload", "?"]  # fmt: skip
                self._copy(
                    f"select {_select_as(QUARANTINE_COLUMNS, values)} from {CHECKED_ROWS} "
                    "where _reject_code is not null order by _source_row",
                    quarantine_path,
                    [loaded_at],
                )
        except BaseException:
            for path in (rows_path, quarantine_path):
                if path not in before:
                    path.unlink(missing_ok=True)
            raise
        entry = LedgerEntry(**{**entry.__dict__, "rows_loaded": loaded, "rows_quarantined": quarantined})
        self._write_entry(dataset.name, entry, loaded_at)  # the commit point
        for path in before:
            if path not in (rows_path, quarantine_path):
                path.unlink(missing_ok=True)
        return entry

    def record_unloaded_file(self, dataset: str, entry: LedgerEntry, loaded_at: datetime) -> None:
        """A file that is not loaded: write why (the commit point), then remove any rows its path carried."""
        self._write_entry(dataset, entry, loaded_at)
        for path in self._file_rows(dataset, entry.source_file):
            path.unlink(missing_ok=True)

    def forget_file(self, dataset: str, source_file: str) -> None:
        if source_file in self.ledger(dataset) and self.ledger(dataset)[source_file].status != "loaded":
            self._ledger_path(dataset, source_file).unlink(missing_ok=True)

    def latest_loaded_at(self) -> datetime | None:
        """None: load times need not grow here, because on Spark every model is a table rebuilt whole
        (macro incremental_or_table) and nothing reads `raw.load_deletions`."""
        return None

    def table_rows(self, dataset: str) -> int:
        folder = self.raw / dataset
        if not any(folder.rglob("*.parquet")):
            return 0
        return self.validation.execute(
            "select count(*) from read_parquet(?)", [str(folder / "**" / "*.parquet")]
        ).fetchone()[0]


@contextmanager
def open_spark_sink(target: WarehouseTarget) -> Iterator[SparkSink]:
    """The Spark warehouse as a load target, its Spark SQL open for the load (settld/spark.py)."""
    with spark_sql(target) as spark:
        sink = SparkSink(spark_dir(target), spark)
        try:
            yield sink
        finally:
            sink.close()
