"""The contract check, as one set-based DuckDB query per landing file.

`checked_relation_sql` turns a source relation into one row per record with: the typed contract
columns, `_reject_code` / `_reject_column` (the first rule the record broke, in contract column order,
or null) and `_raw_payload` (the record as received, filled for rejected records only).

The source is either the reader's table of strings (JSON Lines, CSV; registered as `source_rows`) or a
Parquet file read by DuckDB itself (`ingestion.readers.parquet_source`). A Parquet column whose type
already guarantees a rule skips its text check: an integer column needs only the range check, a
timestamp column no parsing (naive Parquet timestamps are UTC, zoned ones are converted to UTC). Every
other column is checked as text, exactly as if the record had arrived as text: the text of a typed
Parquet value is what the record carries in the quarantine payload too.

Each value is parsed once (layer `typed`); a rule that needs the parsed value tests it for null.
Set-based SQL keeps a 10-million-row file a matter of seconds.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping

import duckdb

from ingestion.contracts import Column, Dataset
from settld.warehouse import bound_duckdb_memory

INTEGER_PATTERN = r"^-?[0-9]+$"
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
# ISO-8601 with an explicit UTC offset ('Z' or +hh:mm); a naive timestamp is ambiguous and refused.
TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})$"
)
MAX_EPOCH_SECONDS = 253402300799  # 9999-12-31T23:59:59Z
# Text of a typed timestamp (what a Parquet timestamp reads as in the payload and in text rules).
TIMESTAMP_TEXT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# Instants whose text has a four-digit year (0000-9999): the only ones the text rule accepts.
TIMESTAMP_TEXT_RANGE_US = (-62167219200000000, 253402300799999999)

# Parquet column types (as DuckDB names them) read natively; a file with any other type is read as text.
INTEGER_TYPES = frozenset(
    ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
)
TIMESTAMP_TYPES = frozenset(
    ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE")
)
NATIVE_TYPES = frozenset(("VARCHAR", "BOOLEAN")) | INTEGER_TYPES | TIMESTAMP_TYPES


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _utc_timestamp(value: str) -> str:
    """Naive UTC TIMESTAMP from a string that matches TIMESTAMP_PATTERN (null when not a real instant).

    The string always carries its offset, so the TIMESTAMPTZ cast does not depend on the session time
    zone; epoch microseconds give the naive UTC value.
    """
    return f"make_timestamp(epoch_us(try_cast({value} as timestamptz)))"


def _trimmed(value: str) -> str:
    """`nullif(trim(value), '')`, trimming only values that may need it (trim() copies every string).

    DuckDB's trim() strips Unicode space separators (category Zs), all outside '!'..'~' like the guard.
    """
    guard = f"{value} = '' or ascii({value}) not between 33 and 126 or regexp_matches({value}, '[^!-~]$')"
    return f"(case when {guard} then nullif(trim({value}), '') else {value} end)"


def _native_utc(value: str, duck_type: str) -> str:
    """A Parquet timestamp as a naive UTC TIMESTAMP (independent of the session time zone)."""
    if duck_type == "TIMESTAMP WITH TIME ZONE":
        return f"make_timestamp(epoch_us({value}))"
    return f"cast({value} as timestamp)"


def _timestamp_text(value: str) -> str:
    """ISO-8601 text of a naive UTC TIMESTAMP, as the text readers write it (a year has at least four
    digits, with a sign outside 0000-9999)."""
    text = f"strftime({value}, '{TIMESTAMP_TEXT_FORMAT}')"
    negative = (
        f"'-' || lpad(cast(-year({value}) as varchar), 4, '0') || strftime({value}, '-%m-%dT%H:%M:%S.%fZ')"
    )
    return (
        f"(case when epoch_us({value}) > {TIMESTAMP_TEXT_RANGE_US[1]} then '+' || {text} "
        f"when year({value}) < 0 then {negative} else {text} end)"
    )


def _source_text(name: str, duck_type: str) -> str:
    """The text a source column carries, as the readers of text formats would give it."""
    column = quote(name)
    if duck_type == "VARCHAR":
        return _trimmed(column)
    if duck_type in TIMESTAMP_TYPES:
        return _timestamp_text(_native_utc(column, duck_type))
    return f"cast({column} as varchar)"


def _is_native(column: Column, duck_type: str) -> bool:
    """The Parquet type already guarantees the column's text rule."""
    return (column.kind == "integer" and duck_type in INTEGER_TYPES) or (
        column.kind == "timestamp" and duck_type in TIMESTAMP_TYPES
    )


def _typed(column: Column, value: str) -> str | None:
    """Typed value of a text value (None when the column stays text)."""
    match column.kind:
        case "integer":
            return f"(case when regexp_full_match({value}, '{INTEGER_PATTERN}') then try_cast({value} as bigint) end)"
        case "timestamp":
            return f"(case when regexp_full_match({value}, '{TIMESTAMP_PATTERN}') then {_utc_timestamp(value)} end)"
        case "epoch_seconds":
            # make_timestamp(microseconds) stays a naive UTC TIMESTAMP (no session time zone involved)
            seconds = f"try_cast({value} as bigint)"
            return f"make_timestamp(case when {seconds} between 0 and {MAX_EPOCH_SECONDS} then {seconds} * 1000000 end)"
        case "boolean":
            return f"(case lower({value}) when 'true' then true when 'false' then false end)"
        case _:
            return None


def _rules(column: Column, value: str, typed: str, json_type: str | None) -> list[tuple[str, str]]:
    """(condition that breaks the rule, reason code), checked in this order for one text column."""
    rules: list[tuple[str, str]] = []
    if column.required:
        rules.append((f"{value} is null", "missing_required"))
    if json_type is not None:
        rules.append((f"{json_type} in ('OBJECT', 'ARRAY')", "invalid_type"))
    present = f"{value} is not null and "
    match column.kind:
        case "epoch_seconds" | "timestamp":
            rules.append((f"{present}{typed} is null", "invalid_timestamp"))
        case "integer":
            rules.append((f"{present}{typed} is null", "invalid_integer"))
            if column.min_value is not None:
                rules.append((f"{typed} < {column.min_value}", "out_of_range"))
        case "period":
            rules.append((f"{present}not regexp_full_match({value}, '{PERIOD_PATTERN}')", "invalid_period"))
        case "currency":
            rules.append(
                (f"{present}not regexp_full_match({value}, '{CURRENCY_PATTERN}')", "invalid_currency")
            )
        case "enum":
            allowed = ", ".join(literal(v) for v in column.values)
            rules.append((f"{present}{value} not in ({allowed})", "invalid_enum"))
        case "boolean":
            rules.append((f"{present}lower({value}) not in ('true', 'false')", "invalid_boolean"))
    return rules


def _native_rules(column: Column, value: str, duck_type: str) -> list[tuple[str, str]]:
    """The rules a natively typed Parquet column can still break (`value` is already converted)."""
    rules: list[tuple[str, str]] = []
    if column.required:
        rules.append((f"{value} is null", "missing_required"))
    if column.kind == "integer":
        if duck_type == "UBIGINT":  # converted with try_cast: null when above the bigint range
            rules.append(
                (f"{quote(column.name + '__src')} is not null and {value} is null", "invalid_integer")
            )
        if column.min_value is not None:
            rules.append((f"{value} < {column.min_value}", "out_of_range"))
    else:  # a timestamp whose text would not have a four-digit year is refused, as in text
        low, high = TIMESTAMP_TEXT_RANGE_US
        rules.append((f"epoch_us({value}) not between {low} and {high}", "invalid_timestamp"))
    return rules


def checked_relation_sql(
    dataset: Dataset,
    file_format: str,
    present_columns: Iterable[str],
    *,
    source: str = "source_rows",
    column_types: Mapping[str, str] | None = None,
) -> str:
    """SELECT over `source` giving typed columns plus the first broken rule of each record.

    `source` has `_source_row`, `_parse_error`, `_raw_payload` and the record's fields;
    `column_types` gives the DuckDB type of each field (VARCHAR when absent).
    """
    is_json = file_format == "jsonl"
    present = sorted(set(present_columns))
    types = {name: (column_types or {}).get(name, "VARCHAR") for name in present}
    extracted = ["_source_row", "_parse_error", "_raw_payload"]
    extracted.append("_object is not null as _is_object" if is_json else "true as _is_object")
    typed_layer: list[str] = []
    cases = ["when _parse_error is not null then _parse_error || '|'"]
    if is_json:
        cases.append("when not json_valid(_raw_payload) then 'invalid_json|'")
        cases.append("when not _is_object then 'not_an_object|'")
    outputs: list[str] = []
    payload_text: dict[str, str] = {}  # field -> its text, over the `judged` layer
    for column in dataset.columns:
        alias = quote(column.name)
        typed_alias = quote(column.name + "__typed")
        duck_type = types.get(column.name, "VARCHAR")
        if is_json:
            path = literal(column.path)
            extracted.append(f"nullif(trim(json_extract_string(_object, {path})), '') as {alias}")
            extracted.append(f"json_type(_object, {path}) as {quote(column.name + '__jt')}")
        elif column.name not in types:
            extracted.append(f"cast(null as varchar) as {alias}")
            if column.required:
                cases.append(f"when true then 'missing_column|{column.name}'")
            outputs.append(f"cast(null as {column.sql_type}) as {alias}")
            continue
        elif _is_native(column, duck_type):
            if column.kind == "integer" and duck_type == "UBIGINT":  # may exceed the bigint range
                source_alias = quote(column.name + "__src")
                extracted.append(f"{alias} as {source_alias}")
                extracted.append(f"try_cast({alias} as bigint) as {alias}")
                payload_text[column.name] = f"cast({source_alias} as varchar)"
            elif column.kind == "integer":
                extracted.append(f"cast({alias} as bigint) as {alias}")
                payload_text[column.name] = f"cast({alias} as varchar)"
            else:
                extracted.append(f"{_native_utc(alias, duck_type)} as {alias}")
                payload_text[column.name] = _timestamp_text(alias)
            for condition, code in _native_rules(column, alias, duck_type):
                cases.append(f"when {condition} then '{code}|{column.name}'")
            outputs.append(f"{alias}")
            continue
        else:
            extracted.append(f"{_source_text(column.name, duck_type)} as {alias}")
        payload_text[column.name] = alias
        typed = _typed(column, alias)
        if typed is not None:
            typed_layer.append(f"{typed} as {typed_alias}")
        json_type = quote(column.name + "__jt") if is_json else None
        for condition, code in _rules(column, alias, typed_alias, json_type):
            cases.append(f"when {condition} then '{code}|{column.name}'")
        outputs.append(f"{typed_alias} as {alias}" if typed is not None else alias)

    contract = set(dataset.column_names)
    for name in present:  # fields outside the contract: only carried to the payload of a refused record
        if name not in contract and not is_json:
            extracted.append(f"{quote(name)} as {quote(name + '__extra')}")
            payload_text[name] = _source_text(name + "__extra", types[name])

    if is_json:  # the line as received (also what a dataset that keeps its payload stores)
        payload = "_raw_payload"
        objects = (
            "case when json_valid(_raw_payload) and json_type(_raw_payload) = 'OBJECT' then _raw_payload end"
        )
    else:  # built for refused records only
        members = ", ".join(f"{literal(name)}, {payload_text[name]}" for name in present)
        payload = f"case when _reject is not null then coalesce(_raw_payload, cast(json_object({members}) as varchar)) end"
        objects = "null"
    reject = "case " + " ".join(cases) + " end"
    typed_select = ", ".join(["*", *typed_layer])
    return f"""
with extracted as (
    select {", ".join(extracted)} from (select *, {objects} as _object from {source})
),
typed as (
    select {typed_select} from extracted
),
judged as (
    select *, {reject} as _reject from typed
)
select
    _source_row,
    nullif(split_part(_reject, '|', 1), '') as _reject_code,
    nullif(split_part(_reject, '|', 2), '') as _reject_column,
    {payload} as _raw_payload,
    {", ".join(outputs)}
from judged
"""


class ValidationScratch:
    """The in-memory DuckDB a sink that is not DuckDB checks each file's rows in before writing them
    (memory bounded as the warehouse's; it spills into a temporary folder of its own)."""

    def __init__(self) -> None:
        self._spill = tempfile.TemporaryDirectory(prefix="settld-load-")
        self.connection = bound_duckdb_memory(duckdb.connect())
        self.connection.execute("set temp_directory = ?", [self._spill.name])

    def close(self) -> None:
        self.connection.close()
        self._spill.cleanup()
