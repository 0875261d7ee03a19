"""The contract check, as one set-based DuckDB query per landing file.

`checked_relation_sql` turns the reader's table of strings (registered as `source_rows`) into one row
per record with: the typed contract columns, `_reject_code` / `_reject_column` (the first rule the
record broke, in contract column order, or null) and `_raw_payload` (the record as received).
Set-based SQL keeps a 10-million-row file a matter of seconds.
"""

from __future__ import annotations

from ingestion.contracts import Column, Dataset

INTEGER_PATTERN = r"^-?[0-9]+$"
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
# ISO-8601 with an explicit UTC offset ('Z' or +hh:mm); a naive timestamp is ambiguous and refused.
TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})$"
)
OFFSET_PATTERN = r"(Z|[+-][0-9]{2}:[0-9]{2})$"
MAX_EPOCH_SECONDS = 253402300799  # 9999-12-31T23:59:59Z


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _utc_timestamp(value: str) -> str:
    """Typed UTC TIMESTAMP from an ISO-8601 string with offset; null when it is not a real instant."""
    local = f"try_cast(replace(regexp_replace({value}, '{OFFSET_PATTERN}', ''), 'T', ' ') as timestamp)"
    offset = f"regexp_extract({value}, '{OFFSET_PATTERN}')"
    offset_minutes = (
        f"(case when {offset} in ('Z', '') then 0 else "
        f"(case when left({offset}, 1) = '-' then -1 else 1 end) * "
        f"(cast(substr({offset}, 2, 2) as integer) * 60 + cast(substr({offset}, 5, 2) as integer)) end)"
    )
    return f"({local} - to_minutes({offset_minutes}))"


def _typed(column: Column, value: str) -> str:
    match column.kind:
        case "integer":
            return f"try_cast({value} as bigint)"
        case "timestamp":
            return _utc_timestamp(value)
        case "epoch_seconds":
            # make_timestamp(microseconds) stays a naive UTC TIMESTAMP (no session time zone involved)
            seconds = f"try_cast({value} as bigint)"
            return f"make_timestamp(case when {seconds} between 0 and {MAX_EPOCH_SECONDS} then {seconds} * 1000000 end)"
        case "boolean":
            return f"(case lower({value}) when 'true' then true when 'false' then false end)"
        case _:
            return value


def _rules(column: Column, value: str, json_type: str | None) -> list[tuple[str, str]]:
    """(condition that breaks the rule, reason code), checked in this order for one column."""
    rules: list[tuple[str, str]] = []
    if column.required:
        rules.append((f"{value} is null", "missing_required"))
    if json_type is not None:
        rules.append((f"{json_type} in ('OBJECT', 'ARRAY')", "invalid_type"))
    present = f"{value} is not null and "
    match column.kind:
        case "epoch_seconds":
            rules.append((f"{present}{_typed(column, value)} is null", "invalid_timestamp"))
        case "integer":
            rules.append(
                (
                    f"{present}(not regexp_full_match({value}, '{INTEGER_PATTERN}') "
                    f"or try_cast({value} as bigint) is null)",
                    "invalid_integer",
                )
            )
            if column.min_value is not None:
                rules.append((f"{present}try_cast({value} as bigint) < {column.min_value}", "out_of_range"))
        case "timestamp":
            rules.append(
                (
                    f"{present}(not regexp_full_match({value}, '{TIMESTAMP_PATTERN}') "
                    f"or {_utc_timestamp(value)} is null)",
                    "invalid_timestamp",
                )
            )
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


def checked_relation_sql(dataset: Dataset, file_format: str, present_columns: set[str]) -> str:
    """SELECT over `source_rows` giving typed columns plus the first broken rule of each record."""
    is_json = file_format == "jsonl"
    extracted = ["_source_row", "_parse_error", "_raw_payload"]
    if is_json:
        # `_object` is the record when it is a JSON object, else null: extraction never sees bad JSON.
        extracted.append("_object is not null as _is_object")
    else:
        extracted.append("true as _is_object")
    missing_columns: list[Column] = []
    for column in dataset.columns:
        alias = quote(column.name)
        if is_json:
            path = literal(column.path)
            extracted.append(f"nullif(trim(json_extract_string(_object, {path})), '') as {alias}")
            extracted.append(f"json_type(_object, {path}) as {quote(column.name + '__jt')}")
        elif column.name in present_columns:
            extracted.append(f"nullif(trim({alias}), '') as {alias}")
        else:
            missing_columns.append(column)
            extracted.append(f"cast(null as varchar) as {alias}")

    cases = ["when _parse_error is not null then _parse_error || '|'"]
    if is_json:
        cases.append("when not json_valid(_raw_payload) then 'invalid_json|'")
        cases.append("when not _is_object then 'not_an_object|'")
    for column in dataset.columns:
        if column in missing_columns:
            if column.required:
                cases.append(f"when true then 'missing_column|{column.name}'")
            continue
        json_type = quote(column.name + "__jt") if is_json else None
        for condition, code in _rules(column, quote(column.name), json_type):
            cases.append(f"when {condition} then '{code}|{column.name}'")
    reject = "case " + " ".join(cases) + " end"

    typed = [f"{_typed(c, quote(c.name))} as {quote(c.name)}" for c in dataset.columns]
    if is_json:
        payload = "_raw_payload"
    else:
        members = ", ".join(f"{literal(name)}, {quote(name)}" for name in sorted(present_columns))
        payload = f"coalesce(_raw_payload, cast(json_object({members}) as varchar))"
    objects = (
        "case when json_valid(_raw_payload) and json_type(_raw_payload) = 'OBJECT' then _raw_payload end as _object"
        if is_json
        else "null as _object"
    )
    return f"""
with parsed as (
    select *, {objects} from source_rows
),
extracted as (
    select {", ".join(extracted)} from parsed
),
judged as (
    select *, {reject} as _reject from extracted
)
select
    _source_row,
    nullif(split_part(_reject, '|', 1), '') as _reject_code,
    nullif(split_part(_reject, '|', 2), '') as _reject_column,
    {payload} as _raw_payload,
    {", ".join(typed)}
from judged
"""
