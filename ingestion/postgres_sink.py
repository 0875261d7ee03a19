"""Writes checked landing files into a Postgres warehouse with bulk COPY: raw tables, quarantine, registry.

The contract check is the same DuckDB query as for a DuckDB warehouse (ingestion.validation), run in an
in-memory DuckDB beside the load. Its rows are written to CSV by DuckDB and streamed into Postgres with
`COPY ... FROM STDIN (FORMAT csv)` inside one transaction per file, which also deletes the rows the file
carried before and upserts its registry row: a reload of a path changes nothing (same sha256: skipped) or
swaps its rows, exactly as on DuckDB. In CSV an unquoted empty field is NULL and `""` an empty string, on
both sides, so nulls survive the trip.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from ingestion.contracts import (
    Dataset,
    raw_table_columns,
)
from ingestion.duckdb_sink import ensure_raw_schema
from ingestion.validation import literal, quote
from settld.warehouse import bound_duckdb_memory

COPY_CHUNK_BYTES = 1 << 20


def _timestamp_literal(moment: datetime) -> str:
    return f"timestamp '{moment.isoformat(sep=' ')}'"


def _stream(cursor: Any, statement: str, path: Path) -> None:
    with cursor.copy(statement) as copy, path.open("rb") as handle:
        while chunk := handle.read(COPY_CHUNK_BYTES):
            copy.write(chunk)


class PostgresSink:
    """A Postgres warehouse as a load target (a psycopg 3 connection in autocommit mode)."""

    kind = "postgres"

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._spill = tempfile.TemporaryDirectory(prefix="settld-load-")
        self.validation = bound_duckdb_memory(duckdb.connect())
        self.validation.execute("set temp_directory = ?", [self._spill.name])

    def close(self) -> None:
        self.validation.close()
        self._spill.cleanup()

    def ensure_raw_schema(self) -> None:
        """Create the raw schema and tables; add columns a newer contract introduced (never drop any)."""
        with self.connection.transaction():
            ensure_raw_schema(self.connection, placeholder="%s")

    def registered_sha256(self, dataset: str, source_file: str) -> str | None:
        row = self.connection.execute(
            "select file_sha256 from raw.load_files where dataset = %s and source_file = %s",
            [dataset, source_file],
        ).fetchone()
        return row[0] if row else None

    def table_rows(self, dataset: str) -> int:
        return self.connection.execute(f"select count(*) from raw.{dataset}").fetchone()[0]

    def replace_file_rows(
        self,
        *,
        dataset: Dataset,
        checked_relation: str,
        source_file: str,
        file_sha256: str,
        file_format: str,
        loaded_at: datetime,
    ) -> tuple[int, int, dict[str, int]]:
        """Swap the rows `source_file` carried for the checked ones (see ingestion.duckdb_sink)."""
        contract_columns = [quote(c.name) for c in dataset.columns]
        if dataset.keep_payload:
            contract_columns.append("_raw_payload")
        target_columns = ", ".join(quote(name) for name, _ in raw_table_columns(dataset))
        file_values = (
            f"{literal(source_file)}, _source_row, {literal(file_sha256)}, {_timestamp_literal(loaded_at)}"
        )
        checks = self.validation
        checks.execute(f"create or replace temp table checked_rows as {checked_relation}")
        try:
            counts = dict(
                checks.execute("select _reject_code, count(*) from checked_rows group by 1").fetchall()
            )
            loaded = counts.pop(None, 0)
            quarantined = sum(counts.values())
            with tempfile.TemporaryDirectory(prefix="settld-copy-") as scratch:
                rows_csv, quarantine_csv = Path(scratch) / "rows.csv", Path(scratch) / "quarantine.csv"
                checks.execute(
                    f"copy (select {', '.join(contract_columns)}, {file_values} from checked_rows "
                    f"where _reject_code is null order by _source_row) "
                    f"to {literal(str(rows_csv))} (format csv, header false)"
                )
                checks.execute(
                    f"copy (select {literal(dataset.name)}, {literal(source_file)}, {literal(file_sha256)}, "
                    f"_source_row, _reject_code, _reject_column, _raw_payload, {_timestamp_literal(loaded_at)} "
                    f"from checked_rows where _reject_code is not null order by _source_row) "
                    f"to {literal(str(quarantine_csv))} (format csv, header false)"
                )
                with self.connection.transaction(), self.connection.cursor() as cursor:
                    cursor.execute(f"delete from raw.{dataset.name} where _source_file = %s", [source_file])
                    cursor.execute(
                        "delete from raw.quarantine where dataset = %s and source_file = %s",
                        [dataset.name, source_file],
                    )
                    _stream(
                        cursor,
                        f"copy raw.{dataset.name} ({target_columns}) from stdin (format csv)",
                        rows_csv,
                    )
                    _stream(cursor, "copy raw.quarantine from stdin (format csv)", quarantine_csv)
                    cursor.execute(
                        "insert into raw.load_files values (%s, %s, %s, %s, %s, %s, %s, %s) "
                        "on conflict (dataset, source_file) do update set file_sha256 = excluded.file_sha256, "
                        "file_format = excluded.file_format, rows_in = excluded.rows_in, "
                        "rows_loaded = excluded.rows_loaded, rows_quarantined = excluded.rows_quarantined, "
                        "loaded_at = excluded.loaded_at",
                        [dataset.name, source_file, file_sha256, file_format, loaded + quarantined, loaded,
                         quarantined, loaded_at],
                    )  # fmt: skip
        finally:
            checks.execute("drop table if exists checked_rows")
        return loaded, quarantined, counts
