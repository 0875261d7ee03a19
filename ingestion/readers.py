"""Find landing files and read them into relations of records, one row per source record.

Readers do not judge records: JSON Lines and CSV values stay text so the contract check
(ingestion.validation) sees exactly what arrived. Each relation carries `_source_row` (1-based record
number: the line number in JSON Lines, the data row after the header in CSV, the row index in Parquet),
`_parse_error` (a reason code when the record could not be split into fields) and `_raw_payload` (the
record as received, when the reader has it in one piece).

They do judge the file as a whole: a text file must be UTF-8 (a byte-order mark is stripped), its content must
match its extension, and a CSV header must name each column once. A file that fails is refused as a
whole with a `FileRejected` naming the reason code, the byte offset and the line where that applies.

Parquet files are read by DuckDB in place (`parquet_source`), keeping their column types, so a large
file never passes through Python. A file with a column type the check does not know natively (floats,
decimals, dates, nested types, ...) is read as text by `read_parquet` instead, as before.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.contracts import Dataset, FileRejected
from ingestion.validation import NATIVE_TYPES, literal

FORMAT_BY_SUFFIX = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
BYTE_ORDER_MARK = b"\xef\xbb\xbf"
PARQUET_MAGIC = b"PAR1"  # the first and the last four bytes of every Parquet file
# Content a text file must not hold: the extension would lie about it.
BINARY_SIGNATURES = {PARQUET_MAGIC: "Parquet", b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip (or xlsx)"}


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


def check_signature(landing_file: LandingFile) -> None:
    """Refuse a file whose first or last bytes contradict its extension (a Parquet file named .csv, a
    CSV named .parquet) or a Parquet file cut short."""
    path, fmt = landing_file.path, landing_file.file_format
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(len(PARQUET_MAGIC))
        handle.seek(max(size - len(PARQUET_MAGIC), 0))
        tail = handle.read()
    if fmt != "parquet":
        for signature, name in BINARY_SIGNATURES.items():
            if head.startswith(signature):
                raise FileRejected("wrong_format", f"{name} content in a .{fmt} file")
        return
    if size == 0:
        raise FileRejected("unreadable_parquet", "the file is empty (0 bytes)")
    if head != PARQUET_MAGIC:
        raise FileRejected(
            "wrong_format", f"not Parquet: the file starts with {head!r}, not {PARQUET_MAGIC!r}"
        )
    if size < 2 * len(PARQUET_MAGIC) or tail != PARQUET_MAGIC:
        raise FileRejected("unreadable_parquet", f"truncated: {size} bytes and no Parquet footer")


def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line with its ending) of a UTF-8 text file; a leading byte-order mark is dropped.

    Refuses the file (invalid_encoding) at the first byte that is not UTF-8, naming its offset in the file
    and its line, and at a NUL byte (UTF-16 or binary content; no warehouse stores it in text)."""
    offset = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            start, offset = offset, offset + len(raw)
            if number == 1 and raw.startswith(BYTE_ORDER_MARK):
                raw, start = raw[len(BYTE_ORDER_MARK) :], start + len(BYTE_ORDER_MARK)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                where = f"at byte offset {start + error.start} (line {number})"
                raise FileRejected(
                    "invalid_encoding", f"byte 0x{raw[error.start]:02x} {where} is not UTF-8"
                ) from None
            if "\x00" in text:
                where = f"at byte offset {start + raw.index(0)} (line {number})"
                raise FileRejected("invalid_encoding", f"a NUL byte {where}: not UTF-8 text")
            yield number, text


def _looks_like_csv_header(line: str, column_names: Iterable[str]) -> bool:
    fields = {field.strip().strip('"') for field in line.split(",")}
    return not line.lstrip().startswith(("{", "[")) and bool(fields & set(column_names))


def read_jsonl(path: Path, column_names: Iterable[str] = ()) -> pa.Table:
    """One record per non-blank line; the line itself is the payload (parsed later, in SQL)."""
    rows: list[int] = []
    lines: list[str] = []
    for number, line in text_lines(path):
        if not line.strip():
            continue  # a blank line carries no record (trailing newlines are common)
        if not rows and _looks_like_csv_header(line, column_names):
            raise FileRejected("wrong_format", f"line {number} is a CSV header, not a JSON object")
        rows.append(number)
        lines.append(line.rstrip("\r\n"))
    return pa.table(
        {
            "_source_row": pa.array(rows, pa.int64()),
            "_parse_error": pa.nulls(len(rows), pa.string()),
            "_raw_payload": pa.array(lines, pa.string()),
        }
    )


def check_header(names: list[str]) -> None:
    """A CSV header names each column once, with a name the contract check does not use itself."""
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name.strip():
            raise FileRejected("malformed_header", f"column {position} of the header has no name")
        if name.lower() in seen:
            raise FileRejected("malformed_header", f"column {name!r} appears twice in the header")
        if is_reserved(name):
            raise FileRejected("malformed_header", f"column name {name!r} is reserved by the loader")
        seen.add(name.lower())


def read_csv(path: Path) -> pa.Table:
    """Header row names the fields; an empty field is a null; a row of the wrong width is malformed."""
    reader = csv.reader(line for _, line in text_lines(path))
    try:
        header = next((record for record in reader if record), [])
        if header and header[0].lstrip().startswith(("{", "[")):
            raise FileRejected("wrong_format", f"line {reader.line_num} is JSON, not a CSV header")
        check_header(header)
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
    except csv.Error as error:
        raise FileRejected("malformed_csv", f"line {reader.line_num}: {error}") from None
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


def is_reserved(name: str) -> bool:
    return name.lower() in _RESERVED or name.lower().endswith(_RESERVED_SUFFIXES)


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
        or any(is_reserved(name) for name in names)
    ):
        return None
    scan = scan[:-1] + ", file_row_number = true)"
    relation = (
        "(select * exclude (file_row_number), file_row_number + 1 as _source_row, "
        f"cast(null as varchar) as _parse_error, cast(null as varchar) as _raw_payload from {scan})"
    )
    return ParquetSource(relation, dict(schema))


def parquet_row_count(path: Path) -> int:
    """Rows the Parquet file's footer declares: counted apart from the scan that checks them."""
    return pq.read_metadata(path).num_rows


def read_landing_file(landing_file: LandingFile, dataset: Dataset) -> pa.Table:
    match landing_file.file_format:
        case "jsonl":
            return read_jsonl(landing_file.path, dataset.column_names)
        case "csv":
            return read_csv(landing_file.path)
        case "parquet":
            return read_parquet(landing_file.path)
    raise ValueError(f"unsupported format: {landing_file.relative_path}")
