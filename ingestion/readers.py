"""Find landing files and read them into relations of records, one row per source record.

Readers do not judge content: JSON Lines and CSV values stay text so the contract check
(ingestion.validation) sees exactly what arrived. Each relation carries `_source_row` (1-based record
number: the line number in JSON Lines, the data row after the header in CSV, the row index in Parquet),
`_parse_error` (a reason code when the record could not be split into fields) and `_raw_payload` (the
record as received, when the reader has it in one piece).

Parquet files are read by DuckDB in place (`parquet_source`), keeping their column types, so a large
file never passes through Python. A file with a column type the check does not know natively (floats,
decimals, dates, nested types, ...) is read as text by `read_parquet` instead, as before.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from ingestion.contracts import Dataset
from ingestion.validation import NATIVE_TYPES, literal

FORMAT_BY_SUFFIX = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}


@dataclass(frozen=True)
class LandingFile:
    dataset: str
    path: Path
    relative_path: str  # posix path relative to the landing directory: the file's identity
    file_format: str | None  # None when the suffix is not a supported format


def discover_files(landing_dir: Path, dataset: Dataset) -> list[LandingFile]:
    """Every regular file under the dataset's folder, sorted by path (hidden files excluded)."""
    folder = landing_dir / dataset.folder
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(landing_dir).as_posix()
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        fmt = FORMAT_BY_SUFFIX.get(path.suffix.lower())
        if fmt not in dataset.formats:
            fmt = None
        files.append(LandingFile(dataset.name, path, relative, fmt))
    return files


def read_jsonl(path: Path) -> pa.Table:
    """One record per non-blank line; the line itself is the payload (parsed later, in SQL)."""
    rows: list[int] = []
    lines: list[str] = []
    errors: list[str | None] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue  # a blank line carries no record (trailing newlines are common)
            rows.append(number)
            try:
                lines.append(raw.decode("utf-8").rstrip("\r\n"))
                errors.append(None)
            except UnicodeDecodeError:
                lines.append(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
                errors.append("invalid_json")
    return pa.table(
        {
            "_source_row": pa.array(rows, pa.int64()),
            "_parse_error": pa.array(errors, pa.string()),
            "_raw_payload": pa.array(lines, pa.string()),
        }
    )


def read_csv(path: Path) -> pa.Table:
    """Header row names the fields; an empty field is a null; a row of the wrong width is malformed."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None) or []
        columns: list[list[str | None]] = [[] for _ in header]
        rows: list[int] = []
        errors: list[str | None] = []
        payloads: list[str | None] = []
        for number, record in enumerate(reader, start=1):
            if not record:
                continue  # csv yields [] for a blank line
            rows.append(number)
            if len(record) != len(header):
                errors.append("malformed_row")
                payloads.append(json.dumps(record, ensure_ascii=False))
                record = [None] * len(header)
            else:
                errors.append(None)
                payloads.append(None)
            for values, value in zip(columns, record, strict=True):
                values.append(value if value != "" else None)
    data = {name: pa.array(values, pa.string()) for name, values in zip(header, columns, strict=True)}
    data.update(
        _source_row=pa.array(rows, pa.int64()),
        _parse_error=pa.array(errors, pa.string()),
        _raw_payload=pa.array(payloads, pa.string()),
    )
    return pa.table(data)


def read_parquet(path: Path) -> pa.Table:
    """Typed Parquet columns become text again; native timestamps are taken as UTC."""
    frame = pl.read_parquet(path)
    converted = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            if dtype.time_zone is not None:
                column = column.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            column = column.dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        converted.append(column.cast(pl.String).alias(name))
    frame = frame.select(converted).with_row_index("_source_row", offset=1)
    frame = frame.with_columns(
        pl.col("_source_row").cast(pl.Int64),
        pl.lit(None, pl.String).alias("_parse_error"),
        pl.lit(None, pl.String).alias("_raw_payload"),
    )
    return frame.to_arrow()


# Names the check itself uses: a file with such a column is read as text, where they cannot clash.
_RESERVED = (
    "file_row_number",
    "_source_row",
    "_parse_error",
    "_raw_payload",
    "_object",
    "_is_object",
    "_reject",
)
_RESERVED_SUFFIXES = ("__jt", "__typed", "__src", "__extra")


@dataclass(frozen=True)
class ParquetSource:
    relation: str  # SQL relation: `_source_row`, `_parse_error`, `_raw_payload` and the file's columns
    column_types: dict[str, str]  # column name -> DuckDB type

    @property
    def column_names(self) -> set[str]:
        return set(self.column_types)


def parquet_source(con: duckdb.DuckDBPyConnection, path: Path) -> ParquetSource | None:
    """The Parquet file as a DuckDB relation with its own types, or None when it must be read as text."""
    if any(char in str(path) for char in "*?[]{}"):
        return None  # DuckDB would expand the path as a glob pattern
    scan = f"read_parquet({literal(str(path))}, hive_partitioning = false)"
    schema = con.execute(f"select column_name, column_type from (describe select * from {scan})").fetchall()
    names = [name for name, _ in schema]
    if (
        any(duck_type not in NATIVE_TYPES for _, duck_type in schema)
        or len({name.lower() for name in names}) != len(names)
        or any(name.lower() in _RESERVED or name.lower().endswith(_RESERVED_SUFFIXES) for name in names)
    ):
        return None
    scan = scan[:-1] + ", file_row_number = true)"
    relation = (
        "(select * exclude (file_row_number), file_row_number + 1 as _source_row, "
        f"cast(null as varchar) as _parse_error, cast(null as varchar) as _raw_payload from {scan})"
    )
    return ParquetSource(relation, dict(schema))


READERS = {"jsonl": read_jsonl, "csv": read_csv, "parquet": read_parquet}


def read_landing_file(landing_file: LandingFile) -> pa.Table:
    if landing_file.file_format is None:
        raise ValueError(f"unsupported format: {landing_file.relative_path}")
    return READERS[landing_file.file_format](landing_file.path)
