"""Find landing files and read them into Arrow tables of strings, one row per source record.

Readers do not judge content: every value stays text so the contract check (ingestion.validation)
sees exactly what arrived. Each table carries `_source_row` (1-based record number: the line number in
JSON Lines, the data row after the header in CSV, the row index in Parquet), `_parse_error` (a reason
code when the record could not be split into fields) and `_raw_payload` (the record as received, when
the reader has it in one piece).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa

from ingestion.contracts import Dataset

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


READERS = {"jsonl": read_jsonl, "csv": read_csv, "parquet": read_parquet}


def read_landing_file(landing_file: LandingFile) -> pa.Table:
    if landing_file.file_format is None:
        raise ValueError(f"unsupported format: {landing_file.relative_path}")
    return READERS[landing_file.file_format](landing_file.path)
