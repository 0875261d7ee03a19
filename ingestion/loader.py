"""Load a landing zone into the warehouse's raw layer, file by file, with a summary that balances.

For every landing file: skip it when the registry already holds the same sha256 for its path; else
read it (ingestion.readers), check every record against its contract in one SQL query
(ingestion.validation) and swap the file's rows in `raw.<dataset>` / `raw.quarantine`
(ingestion.duckdb_sink, or ingestion.postgres_sink with bulk COPY). Rows in = rows loaded + rows quarantined, per file and per dataset.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ingestion import duckdb_sink
from ingestion.contracts import DATASETS, Dataset
from ingestion.readers import LandingFile, discover_files, parquet_source, read_landing_file
from ingestion.validation import checked_relation_sql
from settld.core import file_sha256
from settld.settings import WarehouseTarget, warehouse_target
from settld.warehouse import check_postgres_collation, connect_duckdb, connect_postgres


class Sink(Protocol):
    """Where checked rows go (ingestion.duckdb_sink.DuckDBSink, ingestion.postgres_sink.PostgresSink)."""

    kind: str
    validation: Any  # the DuckDB connection the contract checks run on

    def ensure_raw_schema(self) -> None: ...

    def registered_sha256(self, dataset: str, source_file: str) -> str | None: ...

    def replace_file_rows(self, **kwargs: Any) -> tuple[int, int, dict[str, int]]: ...

    def table_rows(self, dataset: str) -> int: ...


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


def load_file(sink: Sink, landing_file: LandingFile, *, loaded_at: datetime) -> tuple[FileResult, Counter]:
    dataset = DATASETS[landing_file.dataset]
    if landing_file.file_format is None:
        return FileResult(landing_file.relative_path, "unsupported_format"), Counter()
    sha = file_sha256(landing_file.path)
    if sink.registered_sha256(dataset.name, landing_file.relative_path) == sha:
        return FileResult(landing_file.relative_path, "unchanged"), Counter()

    con = sink.validation  # where the contract check runs (DuckDB)
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
        loaded, quarantined, reasons = sink.replace_file_rows(
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
    sink: Sink,
    landing_dir: Path,
    dataset: Dataset,
    *,
    loaded_at: datetime | None = None,
    progress: ProgressCallback | None = None,
) -> DatasetSummary:
    loaded_at = loaded_at or datetime.now(UTC).replace(tzinfo=None)
    sink.ensure_raw_schema()
    summary = DatasetSummary(dataset.name)
    for landing_file in discover_files(landing_dir, dataset):
        result, reasons = load_file(sink, landing_file, loaded_at=loaded_at)
        summary.files.append(result)
        summary.quarantine_reasons.update(reasons)
        if progress:
            progress(landing_file, result)
    summary.table_rows = sink.table_rows(dataset.name)
    return summary


@contextmanager
def open_sink(target: WarehouseTarget) -> Iterator[Sink]:
    """The warehouse as a load target: the DuckDB file itself, or Postgres fed by bulk COPY."""
    if target.kind == "duckdb":
        with connect_duckdb(target.duckdb_path) as con:
            yield duckdb_sink.DuckDBSink(con)
        return
    from ingestion.postgres_sink import PostgresSink

    connection = connect_postgres(target.url)
    sink = PostgresSink(connection)
    try:
        check_postgres_collation(connection)
        yield sink
    finally:
        sink.close()
        connection.close()


def load_landing_zone(
    warehouse: Path | str | WarehouseTarget,
    landing_dir: Path,
    datasets: Iterable[str] | None = None,
    *,
    progress: ProgressCallback | None = None,
) -> dict[str, DatasetSummary]:
    """Load every dataset (or the named ones) from `landing_dir` into the warehouse: a DuckDB file path,
    a `postgresql://` URL, or a target."""
    if not landing_dir.is_dir():
        raise FileNotFoundError(f"landing directory not found: {landing_dir}")
    names = list(datasets) if datasets is not None else list(DATASETS)
    unknown = sorted(set(names) - set(DATASETS))
    if unknown:
        raise ValueError(f"unknown datasets: {', '.join(unknown)}")
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    target = warehouse if isinstance(warehouse, WarehouseTarget) else warehouse_target(str(warehouse))
    with open_sink(target) as sink:
        return {
            name: load_dataset(sink, landing_dir, DATASETS[name], loaded_at=loaded_at, progress=progress)
            for name in names
        }
