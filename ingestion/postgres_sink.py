"""Writes checked landing files into a Postgres warehouse with bulk COPY: raw tables, quarantine, ledger.

The contract check is the same DuckDB query as for a DuckDB warehouse (ingestion.validation), run in an
in-memory DuckDB beside the load. Its rows are written to CSV by DuckDB and streamed into Postgres with
`COPY ... FROM STDIN (FORMAT csv)` inside one transaction per file, which also deletes the rows the file
carried before and upserts its ledger row: a reload of a path changes nothing (same sha256: skipped) or
swaps its rows, exactly as on DuckDB. In CSV an unquoted empty field is NULL and `""` an empty string, on
both sides, so nulls survive the trip. A value Postgres refuses (a NUL character in a Parquet string) rolls
the file back and rejects it as `unstorable_value`.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from ingestion.contracts import Dataset, FileRejected, raw_table_columns
from ingestion.duckdb_sink import ensure_raw_schema
from ingestion.intake import CHECKED_ROWS, first_line
from ingestion.ledger import (
    LedgerEntry,
    check_balance,
    delete_file_rows,
    forget_file,
    latest_loaded_at,
    read_ledger,
    write_entry,
)
from ingestion.validation import ValidationScratch, literal, quote

COPY_CHUNK_BYTES = 1 << 20


def _timestamp_literal(moment: datetime) -> str:
    return f"timestamp '{moment.isoformat(sep=' ')}'"


def _stream(cursor: Any, statement: str, path: Path) -> int:
    """COPY the CSV file at `path`; the number of rows Postgres wrote."""
    with cursor.copy(statement) as copy, path.open("rb") as handle:
        while chunk := handle.read(COPY_CHUNK_BYTES):
            copy.write(chunk)
    return cursor.rowcount


class PostgresSink:
    """A Postgres warehouse as a load target (a psycopg 3 connection in autocommit mode)."""

    kind = "postgres"

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._scratch = ValidationScratch()
        self.validation = self._scratch.connection
        self._schema_ready = False

    def close(self) -> None:
        self._scratch.close()

    def ensure_raw_schema(self) -> None:
        """Create the raw schema and tables; add columns a newer contract or ledger introduced (never drop
        any). Once per sink: every dataset's load asks for it."""
        if not self._schema_ready:
            with self.connection.transaction():
                ensure_raw_schema(self.connection, placeholder="%s")
            self._schema_ready = True

    def ledger(self, dataset: str) -> dict[str, LedgerEntry]:
        return read_ledger(self.connection, dataset, "%s")

    def latest_loaded_at(self) -> datetime | None:
        return latest_loaded_at(self.connection)

    def table_rows(self, dataset: str) -> int:
        return self.connection.execute(f"select count(*) from raw.{dataset}").fetchone()[0]

    def forget_file(self, dataset: str, source_file: str) -> None:
        forget_file(self.connection, dataset, source_file, "%s")

    def record_unloaded_file(self, dataset: str, entry: LedgerEntry, loaded_at: datetime) -> None:
        """A file that is not loaded: remove any rows its path carried and write why, in one transaction."""
        with self.connection.transaction(), self.connection.cursor() as cursor:
            delete_file_rows(cursor, dataset, entry.source_file, "%s", deleted_at=loaded_at)
            write_entry(cursor, dataset, entry, loaded_at, "%s")

    def replace_file_rows(self, *, dataset: Dataset, entry: LedgerEntry, loaded_at: datetime) -> LedgerEntry:
        """Swap the rows the file carried for the checked ones (see ingestion.duckdb_sink): the rows COPY
        wrote must add up to the records read, or the transaction rolls back (row_count_mismatch)."""
        contract_columns = [quote(c.name) for c in dataset.columns]
        if dataset.keep_payload:
            contract_columns.append("_raw_payload")
        target_columns = ", ".join(quote(name) for name, _ in raw_table_columns(dataset))
        source_file, sha = literal(entry.source_file), literal(entry.file_sha256)
        moment = _timestamp_literal(loaded_at)
        with tempfile.TemporaryDirectory(prefix="settld-copy-") as scratch:
            rows_csv, quarantine_csv = Path(scratch) / "rows.csv", Path(scratch) / "quarantine.csv"
            self.validation.execute(
                f"copy (select {', '.join(contract_columns)}, {source_file}, _source_row, {sha}, {moment} "
                f"from {CHECKED_ROWS} where _reject_code is null order by _source_row) "
                f"to {literal(str(rows_csv))} (format csv, header false)"
            )
            self.validation.execute(
                f"copy (select {literal(dataset.name)}, {source_file}, {sha}, _source_row, _reject_code, "
                f"_reject_column, _raw_payload, {moment} from {CHECKED_ROWS} where _reject_code is not null "
                f"order by _source_row) to {literal(str(quarantine_csv))} (format csv, header false)"
            )
            try:
                with self.connection.transaction(), self.connection.cursor() as cursor:
                    delete_file_rows(cursor, dataset.name, entry.source_file, "%s", deleted_at=loaded_at)
                    columns = f"raw.{dataset.name} ({target_columns})"
                    loaded = _stream(cursor, f"copy {columns} from stdin (format csv)", rows_csv)
                    quarantined = _stream(
                        cursor, "copy raw.quarantine from stdin (format csv)", quarantine_csv
                    )
                    check_balance(entry.rows_in, loaded, quarantined)
                    entry = LedgerEntry(
                        **{**entry.__dict__, "rows_loaded": loaded, "rows_quarantined": quarantined}
                    )
                    write_entry(cursor, dataset.name, entry, loaded_at, "%s")
            except psycopg.errors.DataError as error:
                detail = f"Postgres refused a value: {first_line(error)}"
                raise FileRejected("unstorable_value", detail) from error
        return entry
