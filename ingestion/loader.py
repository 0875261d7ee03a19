"""Load a landing zone into the warehouse's raw layer, file by file, with a summary that balances.

Every landing file is read inside its own guard (ingestion.intake) and written in its own transaction
(ingestion.duckdb_sink, or ingestion.postgres_sink with bulk COPY): it ends either fully in raw with a
`loaded` row in the ledger `raw.load_files`, or not in raw at all with a `rejected` or `duplicate` row
that says why (ingestion.ledger). A bad file never stops the files after it. A file is skipped when the
ledger already holds it loaded with the same sha256. Rows in = rows loaded + rows quarantined, per file,
with rows in counted from the file itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from ingestion import duckdb_sink
from ingestion.contracts import DATASETS, Dataset, FileRejected
from ingestion.intake import check_file, quarantine_reasons, release
from ingestion.ledger import LedgerEntry
from ingestion.readers import LandingFile, discover_files
from settld.core import file_sha256
from settld.settings import WarehouseTarget, warehouse_target
from settld.warehouse import check_postgres_collation, connect_duckdb, connect_postgres


class Sink(Protocol):
    """Where checked rows go (ingestion.duckdb_sink.DuckDBSink, ingestion.postgres_sink.PostgresSink)."""

    kind: str
    validation: Any  # the DuckDB connection the contract checks run on

    def ensure_raw_schema(self) -> None: ...

    def ledger(self, dataset: str) -> dict[str, LedgerEntry]: ...

    def replace_file_rows(
        self, *, dataset: Dataset, entry: LedgerEntry, loaded_at: datetime
    ) -> LedgerEntry: ...

    def record_unloaded_file(self, dataset: str, entry: LedgerEntry, loaded_at: datetime) -> None: ...

    def forget_file(self, dataset: str, source_file: str) -> None: ...

    def latest_loaded_at(self) -> datetime | None: ...

    def table_rows(self, dataset: str) -> int: ...


@dataclass
class FileResult:
    source_file: str
    status: str  # loaded | unchanged | rejected | duplicate | unsupported_format
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reason: str | None = None  # FILE_REASON_CODES, for a rejected or duplicate file
    detail: str | None = None
    warning: str | None = None  # FILE_WARNING_NO_DATA_ROWS, for a loaded file without records

    def describe(self) -> str:
        """One line for people: the file, then what became of it."""
        if self.reason:
            return f"{self.source_file}: {self.status} ({self.reason}): {self.detail}"
        return f"{self.source_file}: {self.warning or self.status}"


@dataclass
class DatasetSummary:
    dataset: str
    files: list[FileResult] = field(default_factory=list)
    quarantine_reasons: Counter = field(default_factory=Counter)
    table_rows: int = 0  # rows in raw.<dataset> after the load, from every file ever loaded

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)

    def with_status(self, status: str) -> list[FileResult]:
        return [f for f in self.files if f.status == status]

    @property
    def empty_files(self) -> list[FileResult]:
        return [f for f in self.files if f.warning]

    @property
    def warnings(self) -> list[str]:
        """Files a person must see although nothing failed: empty, duplicate, of an unsupported format."""
        shown = self.empty_files + self.with_status("duplicate") + self.with_status("unsupported_format")
        return [f.describe() for f in shown]

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
            "files_rejected": self.count("rejected"),
            "files_duplicate": self.count("duplicate"),
            "files_empty": len(self.empty_files),
            "files_unsupported": self.count("unsupported_format"),
            "rows_in": self.rows_in,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "table_rows": self.table_rows,
            "quarantine_reasons": dict(sorted(self.quarantine_reasons.items())),
            "rejected_files": {
                f.source_file: f"{f.reason}: {f.detail}" for f in self.with_status("rejected")
            },
            "duplicate_files": {f.source_file: f.detail for f in self.with_status("duplicate")},
            "empty_files": [f.source_file for f in self.empty_files],
        }


ProgressCallback = Callable[[LandingFile, FileResult], None]


@dataclass
class _Ledger:
    """The dataset's ledger rows as the load goes: what is loaded, and under which name each content is."""

    entries: dict[str, LedgerEntry]

    def loaded_copy(self, sha: str, source_file: str) -> str | None:
        """Another file already loaded with this content and at least one record (files without records
        are alike by nature: they are never duplicates)."""
        copies = (
            e.source_file
            for e in self.entries.values()
            if e.status == "loaded"
            and e.file_sha256 == sha
            and e.rows_in > 0
            and e.source_file != source_file
        )
        return min(copies, default=None)


def _not_loaded(
    sink: Sink, ledger: _Ledger, landing_file: LandingFile, entry: LedgerEntry, loaded_at: datetime
) -> FileResult:
    """Record why the file is not in raw (unless the ledger says so already) and report it."""
    if not entry.same_outcome(ledger.entries.get(entry.source_file)):
        sink.record_unloaded_file(landing_file.dataset, entry, loaded_at)
        ledger.entries[entry.source_file] = entry
    return FileResult(entry.source_file, entry.status, reason=entry.reason, detail=entry.reason_detail)


def _rejected(path: str, sha: str, fmt: str, rejection: FileRejected) -> LedgerEntry:
    return LedgerEntry(path, sha, fmt, "rejected", rejection.code, rejection.detail)


def load_file(
    sink: Sink, landing_file: LandingFile, ledger: _Ledger, *, loaded_at: datetime
) -> tuple[FileResult, Counter]:
    """Load one file, or record why not; only a fault of the warehouse itself raises."""
    dataset = DATASETS[landing_file.dataset]
    path, fmt = landing_file.relative_path, landing_file.file_format
    if fmt is None:
        return FileResult(path, "unsupported_format"), Counter()
    try:
        sha = file_sha256(landing_file.path)
    except OSError as error:  # gone since it was listed, or not readable by the loader
        entry = _rejected(path, "", fmt, FileRejected("unreadable_file", str(error)))
        return _not_loaded(sink, ledger, landing_file, entry, loaded_at), Counter()
    known = ledger.entries.get(path)
    if known is not None and known.file_sha256 == sha and known.status == "loaded":
        return FileResult(path, "unchanged"), Counter()
    if original := ledger.loaded_copy(sha, path):
        detail = f"the same content (sha256) as {original}, which is loaded"
        entry = LedgerEntry(path, sha, fmt, "duplicate", "duplicate_file", detail)
        return _not_loaded(sink, ledger, landing_file, entry, loaded_at), Counter()
    try:
        checked = check_file(sink.validation, dataset, landing_file)
        try:
            reasons = quarantine_reasons(sink.validation)
            entry = LedgerEntry(path, sha, fmt, rows_in=checked.rows_in)
            entry = sink.replace_file_rows(dataset=dataset, entry=entry, loaded_at=loaded_at)
        finally:
            release(sink.validation)
    except FileRejected as rejection:
        return _not_loaded(
            sink, ledger, landing_file, _rejected(path, sha, fmt, rejection), loaded_at
        ), Counter()
    ledger.entries[path] = entry
    result = FileResult(
        path, "loaded", entry.rows_in, entry.rows_loaded, entry.rows_quarantined, warning=checked.warning
    )
    return result, Counter(reasons)


def load_time(sink: Sink, wanted: datetime) -> datetime:
    """`wanted`, or just after the newest load the warehouse records when the clock says otherwise: load
    times only ever grow, because the incremental dbt models find what changed as the rows loaded and
    the keys deleted after the newest load they have seen (docs/DECISIONLOG.md, "Incremental runs")."""
    latest = sink.latest_loaded_at()
    return wanted if latest is None or wanted > latest else latest + timedelta(microseconds=1)


def load_dataset(
    sink: Sink,
    landing_dir: Path,
    dataset: Dataset,
    *,
    loaded_at: datetime | None = None,
    progress: ProgressCallback | None = None,
) -> DatasetSummary:
    """Load every file of the dataset's folder; forget the ledger rows of files that carried no rows and
    have left the landing zone (a withdrawn rejected or duplicate file)."""
    sink.ensure_raw_schema()
    loaded_at = load_time(sink, loaded_at or datetime.now(UTC).replace(tzinfo=None))
    summary = DatasetSummary(dataset.name)
    ledger = _Ledger(sink.ledger(dataset.name))
    landing_files = discover_files(landing_dir, dataset)
    for landing_file in landing_files:
        result, reasons = load_file(sink, landing_file, ledger, loaded_at=loaded_at)
        summary.files.append(result)
        summary.quarantine_reasons.update(reasons)
        if progress:
            progress(landing_file, result)
    present = {f.relative_path for f in landing_files}
    for source_file, entry in sorted(ledger.entries.items()):
        if entry.status != "loaded" and source_file not in present:
            sink.forget_file(dataset.name, source_file)
    summary.table_rows = sink.table_rows(dataset.name)
    return summary


@contextmanager
def open_sink(target: WarehouseTarget) -> Iterator[Sink]:
    """The warehouse as a load target: the DuckDB file itself, or Postgres fed by bulk COPY."""
    if target.kind == "duckdb":
        with connect_duckdb(target.duckdb_path) as con:
            yield duckdb_sink.DuckDBSink(con)
        return
    if target.kind == "spark":  # Parquet registered as Spark tables (ingestion/spark_sink.py)
        from ingestion.spark_sink import open_spark_sink

        with open_spark_sink(target) as spark_sink:
            yield spark_sink
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
