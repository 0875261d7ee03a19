"""Load a landing zone into the warehouse's raw layer, file by file, with a summary that balances.

For every landing file: skip it when the registry already holds the same sha256 for its path; else
read it (ingestion.readers), check every record against its contract in one SQL query
(ingestion.validation) and swap the file's rows in `raw.<dataset>` / `raw.quarantine`
(ingestion.duckdb_sink). Rows in = rows loaded + rows quarantined, per file and per dataset.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion import duckdb_sink
from ingestion.contracts import DATASETS, Dataset
from ingestion.readers import LandingFile, discover_files, parquet_source, read_landing_file
from ingestion.validation import checked_relation_sql
from settld.core import file_sha256


@dataclass
class FileResult:
    source_file: str
    status: str  # loaded | unchanged | unsupported_format
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0


@dataclass
class DatasetSummary:
    dataset: str
    files: list[FileResult] = field(default_factory=list)
    quarantine_reasons: Counter = field(default_factory=Counter)
    table_rows: int = 0  # rows in raw.<dataset> after the load, from every file ever loaded

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_loaded + self.rows_quarantined

    def as_metadata(self) -> dict:
        return {
            "files_seen": len(self.files),
            "files_loaded": self.count("loaded"),
            "files_unchanged": self.count("unchanged"),
            "files_unsupported": self.count("unsupported_format"),
            "rows_in": self.rows_in,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "table_rows": self.table_rows,
            "quarantine_reasons": dict(sorted(self.quarantine_reasons.items())),
        }


ProgressCallback = Callable[[LandingFile, FileResult], None]


def load_file(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, *, loaded_at: datetime
) -> tuple[FileResult, Counter]:
    dataset = DATASETS[landing_file.dataset]
    if landing_file.file_format is None:
        return FileResult(landing_file.relative_path, "unsupported_format"), Counter()
    sha = file_sha256(landing_file.path)
    if duckdb_sink.registered_sha256(con, dataset.name, landing_file.relative_path) == sha:
        return FileResult(landing_file.relative_path, "unchanged"), Counter()

    parquet = parquet_source(con, landing_file.path) if landing_file.file_format == "parquet" else None
    if parquet is not None:  # read by DuckDB in place, with the file's own column types
        relation, present, types = parquet.relation, parquet.column_names, parquet.column_types
    else:
        source_rows = read_landing_file(landing_file)
        con.register("source_rows", source_rows)
        relation, types = "source_rows", None
        present = set(source_rows.column_names) - {"_source_row", "_parse_error", "_raw_payload"}
    try:
        sql = checked_relation_sql(
            dataset, landing_file.file_format, present, source=relation, column_types=types
        )
        loaded, quarantined, reasons = duckdb_sink.replace_file_rows(
            con,
            dataset=dataset,
            checked_relation=sql,
            source_file=landing_file.relative_path,
            file_sha256=sha,
            file_format=landing_file.file_format,
            loaded_at=loaded_at,
        )
    finally:
        if parquet is None:
            con.unregister("source_rows")
    result = FileResult(landing_file.relative_path, "loaded", loaded + quarantined, loaded, quarantined)
    return result, Counter(reasons)


def load_dataset(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    dataset: Dataset,
    *,
    loaded_at: datetime | None = None,
    progress: ProgressCallback | None = None,
) -> DatasetSummary:
    loaded_at = loaded_at or datetime.now(UTC).replace(tzinfo=None)
    duckdb_sink.ensure_raw_schema(con)
    summary = DatasetSummary(dataset.name)
    for landing_file in discover_files(landing_dir, dataset):
        result, reasons = load_file(con, landing_file, loaded_at=loaded_at)
        summary.files.append(result)
        summary.quarantine_reasons.update(reasons)
        if progress:
            progress(landing_file, result)
    summary.table_rows = con.execute(f"select count(*) from raw.{dataset.name}").fetchone()[0]
    return summary


def load_landing_zone(
    warehouse_path: Path,
    landing_dir: Path,
    datasets: Iterable[str] | None = None,
    *,
    progress: ProgressCallback | None = None,
) -> dict[str, DatasetSummary]:
    """Load every dataset (or the named ones) from `landing_dir` into the DuckDB file at `warehouse_path`."""
    if not landing_dir.is_dir():
        raise FileNotFoundError(f"landing directory not found: {landing_dir}")
    names = list(datasets) if datasets is not None else list(DATASETS)
    unknown = sorted(set(names) - set(DATASETS))
    if unknown:
        raise ValueError(f"unknown datasets: {', '.join(unknown)}")
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    with duckdb_sink.connect(warehouse_path) as con:
        return {
            name: load_dataset(con, landing_dir, DATASETS[name], loaded_at=loaded_at, progress=progress)
            for name in names
        }
