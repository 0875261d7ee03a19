"""The ledger of landing files, `raw.load_files`: per file path its sha256, status, reason and row counts.

A file is either fully in raw with a `loaded` row here, or not in raw at all with a `rejected` or
`duplicate` row that says why (docs/DECISIONLOG.md, "Landing files and the raw layer"). The statements are
the same on both engines: `con` is a DuckDB connection, or a psycopg connection or cursor with
`placeholder="%s"`; the sinks (ingestion.duckdb_sink, ingestion.postgres_sink) run them inside their own
transaction per file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ingestion.contracts import DELETION_KEY_COLUMNS, LOAD_FILES_COLUMNS, FileRejected


@dataclass(frozen=True)
class LedgerEntry:
    source_file: str
    file_sha256: str
    file_format: str
    status: str = "loaded"
    reason: str | None = None
    reason_detail: str | None = None
    # What raw took in from the file: 0, 0, 0 for a file that is not loaded (its detail says why).
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0

    def same_outcome(self, other: LedgerEntry | None) -> bool:
        """Same content and same verdict: rewriting the row would only move its `loaded_at`."""
        keys = ("file_sha256", "status", "reason", "reason_detail")
        return other is not None and all(getattr(self, k) == getattr(other, k) for k in keys)


def read_ledger(con: Any, dataset: str, placeholder: str = "?") -> dict[str, LedgerEntry]:
    """Every ledger row of `dataset`, by source file."""
    fields = ", ".join(LedgerEntry.__dataclass_fields__)
    rows = con.execute(
        f"select {fields} from raw.load_files where dataset = {placeholder}", [dataset]
    ).fetchall()
    return {row[0]: LedgerEntry(*row) for row in rows}


def write_entry(
    con: Any, dataset: str, entry: LedgerEntry, loaded_at: datetime, placeholder: str = "?"
) -> None:
    """Insert or replace the file's ledger row."""
    values = {"dataset": dataset, "loaded_at": loaded_at, **entry.__dict__}
    marks = ", ".join(placeholder for _ in LOAD_FILES_COLUMNS)
    updates = ", ".join(f"{name} = excluded.{name}" for name in LOAD_FILES_COLUMNS[2:])
    con.execute(
        f"insert into raw.load_files ({', '.join(LOAD_FILES_COLUMNS)}) values ({marks}) "
        f"on conflict (dataset, source_file) do update set {updates}",
        [values[name] for name in LOAD_FILES_COLUMNS],
    )


def delete_file_rows(
    con: Any, dataset: str, source_file: str, placeholder: str = "?", *, deleted_at: datetime
) -> None:
    """Remove the rows the file carried into `raw.<dataset>` and `raw.quarantine`; first note the keys
    they carried in `raw.load_deletions` (datasets of incremental models only)."""
    if keys := DELETION_KEY_COLUMNS.get(dataset):
        columns = ", ".join(keys)
        con.execute(
            f"insert into raw.load_deletions (dataset, source_file, {columns}, deleted_at) "
            f"select distinct {placeholder}, _source_file, {columns}, cast({placeholder} as timestamp) "
            f"from raw.{dataset} where _source_file = {placeholder}",
            [dataset, deleted_at, source_file],
        )
    con.execute(f"delete from raw.{dataset} where _source_file = {placeholder}", [source_file])
    con.execute(
        f"delete from raw.quarantine where dataset = {placeholder} and source_file = {placeholder}",
        [dataset, source_file],
    )


def forget_file(con: Any, dataset: str, source_file: str, placeholder: str = "?") -> None:
    """Drop the ledger row of a file that carried no rows and has left the landing zone."""
    con.execute(
        f"delete from raw.load_files where dataset = {placeholder} and source_file = {placeholder} "
        "and status <> 'loaded'",
        [dataset, source_file],
    )


def check_balance(rows_in: int, loaded: int, quarantined: int) -> None:
    """Every record read from the file is written, loaded or quarantined; else nothing may be committed."""
    if loaded + quarantined != rows_in:
        raise FileRejected(
            "row_count_mismatch",
            f"{rows_in} records read, {loaded + quarantined} written "
            f"({loaded} loaded, {quarantined} quarantined): nothing of the file was kept",
        )


def latest_loaded_at(con: Any) -> datetime | None:
    """The newest instant the ledger or the deletions record (None: nothing loaded yet)."""
    return con.execute(
        "select max(moment) from (select max(loaded_at) as moment from raw.load_files "
        "union all select max(deleted_at) from raw.load_deletions) as moments"
    ).fetchone()[0]
