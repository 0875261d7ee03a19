"""One landing file, read and checked into the temp table `checked_rows`, or refused as a whole.

`check_file` is the guard every file is read inside: whatever the bytes are, it either leaves the
file's checked records in `checked_rows` (on the connection the contract check runs on) with the number
of records it read, or raises `FileRejected` with a reason code of `FILE_REASON_CODES`, having cleaned
up. Nothing here writes to the warehouse's tables: the sink does that afterwards, in one transaction.

The records read (`rows_in`) are counted by the reader, from the file (a text file's records, a Parquet
file's footer), not from the check's output, so the sink's balance check compares two counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingestion.contracts import FILE_WARNING_NO_DATA_ROWS, Dataset, FileRejected
from ingestion.readers import (
    LandingFile,
    check_signature,
    parquet_row_count,
    parquet_source,
    read_landing_file,
)
from ingestion.validation import checked_relation_sql, quote

CHECKED_ROWS = "checked_rows"
_SOURCE_ROWS = "source_rows"
_READER_COLUMNS = {"_source_row", "_parse_error", "_raw_payload"}


@dataclass(frozen=True)
class CheckedFile:
    rows_in: int  # records in the file, as read
    warning: str | None = None  # FILE_WARNING_NO_DATA_ROWS for a file without records


def check_file(con: Any, dataset: Dataset, landing_file: LandingFile) -> CheckedFile:
    """Read and check `landing_file` into `checked_rows` on `con` (a DuckDB connection)."""
    try:
        return _check(con, dataset, landing_file)
    except (FileRejected, MemoryError):
        release(con)
        raise
    except Exception as error:  # a bad file must not stop the files after it: refuse it, say why
        release(con)
        code = "unreadable_parquet" if landing_file.file_format == "parquet" else "unreadable_file"
        raise FileRejected(code, f"{type(error).__name__}: {first_line(error)}") from error


def first_line(error: Exception) -> str:
    """The first line of an error's message (DuckDB and Postgres add context lines below it)."""
    return (str(error).strip().splitlines() or [""])[0]


def release(con: Any) -> None:
    """Drop what `check_file` left on the connection."""
    con.execute(f"drop table if exists {CHECKED_ROWS}")
    con.unregister(_SOURCE_ROWS)


def quarantine_reasons(con: Any) -> dict[str, int]:
    """The checked file's quarantined records by reason code."""
    return dict(
        con.execute(
            f"select _reject_code, count(*) from {CHECKED_ROWS} where _reject_code is not null group by 1"
        ).fetchall()
    )


def _check(con: Any, dataset: Dataset, landing_file: LandingFile) -> CheckedFile:
    check_signature(landing_file)
    fmt = landing_file.file_format
    parquet = parquet_source(con, landing_file.path) if fmt == "parquet" else None
    if parquet is not None:  # read by DuckDB in place, with the file's own column types
        relation, present, types = parquet.relation, parquet.column_names, parquet.column_types
        rows_in = parquet_row_count(landing_file.path)
    else:
        source_rows = read_landing_file(landing_file, dataset)
        con.register(_SOURCE_ROWS, source_rows)
        relation, types = _SOURCE_ROWS, None
        present = set(source_rows.column_names) - _READER_COLUMNS
        rows_in = parquet_row_count(landing_file.path) if fmt == "parquet" else source_rows.num_rows
    if fmt != "jsonl" and (present or rows_in):  # a file with columns (JSON records name their own)
        missing = [c.name for c in dataset.columns if c.required and c.name not in present]
        if missing:
            raise FileRejected(
                "missing_required_column",
                f"no column {', '.join(missing)}; its {rows_in} data rows are not loaded",
            )
    sql = checked_relation_sql(dataset, fmt, present, source=relation, column_types=types)
    con.execute(f"create or replace temp table {CHECKED_ROWS} as {sql}")
    if fmt == "parquet":  # text readers refuse NUL bytes already
        _refuse_nul_characters(con)
    return CheckedFile(rows_in, FILE_WARNING_NO_DATA_ROWS if rows_in == 0 else None)


def _refuse_nul_characters(con: Any) -> None:
    """Postgres text cannot hold a NUL character: refuse it on every engine alike, naming the row."""
    described = con.execute(f"describe {CHECKED_ROWS}").fetchall()
    text_columns = [quote(row[0]) for row in described if row[1] == "VARCHAR"]
    if not text_columns:
        return
    condition = " or ".join(f"contains({column}, chr(0))" for column in text_columns)
    row = con.execute(
        f"select _source_row from {CHECKED_ROWS} where {condition} order by _source_row limit 1"
    ).fetchone()
    if row is not None:
        raise FileRejected("unstorable_value", f"a NUL character in a text value of row {row[0]}")
