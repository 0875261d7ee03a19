"""Which rows a suite validates: the rows of a period and tenant, in SQL that runs on DuckDB and
Postgres, read in chunks into pandas DataFrames."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ingestion.contracts import DATASETS
from quality.raw_suites import passes
from quality.raw_suites.catalogue import COLUMNS, OPERATION_STATE_TIMESTAMPS, PERIOD_PATTERN, _require_dataset

# Rows validated at a time: bounds memory on whole-table validations of large warehouses.
CHUNK_ROWS = 250_000
MAX_FILES_PER_CHUNK = 500
TIMESTAMP_COLUMNS = {
    name: frozenset(c.name for c in d.columns if c.kind in ("timestamp", "epoch_seconds"))
    for name, d in DATASETS.items()
}


# ---------------------------------------------------------------------------------------------------------
# Which rows: period and tenant, in SQL that runs on DuckDB and Postgres


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """[start, end) of a `YYYY-MM` period as naive UTC datetimes (raw timestamps are naive UTC)."""
    if not isinstance(period, str) or not re.fullmatch(PERIOD_PATTERN, period):
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    year, month = int(period[:4]), int(period[5:])
    start = datetime(year, month, 1)
    return start, datetime(year + month // 12, month % 12 + 1, 1)


def _first_event_sql() -> str:
    # As stg_money_rails__operations (first_event_at) with the least_not_null macro: NULL-safe on both
    # engines, whatever their least() does with nulls.
    fallback = f"coalesce({', '.join(OPERATION_STATE_TIMESTAMPS)})"
    earliest = ", ".join(f"coalesce({c}, {fallback})" for c in OPERATION_STATE_TIMESTAMPS)
    return f"coalesce(initiated_at, least({earliest}))"


def _period_filter(dataset: str, start: datetime, end: datetime) -> tuple[str, list[Any]]:
    # A row whose period-defining value is missing belongs to no period by the rule, so it could hide
    # in any: every period's selection includes it, and its blocking not-null check fails them all.
    if dataset == "payout_instructions" or "period" in DATASETS[dataset].column_names:
        return "(period = ? or period is null)", [f"{start:%Y-%m}"]
    if dataset == "settlements":
        return (
            "((locked_at >= ? and locked_at < ?) or (resolved_at >= ? and resolved_at < ?) "
            "or locked_at is null)",
            [start, end, start, end],
        )
    moments = {"money_rail_operations": _first_event_sql(), "ledger_postings": "posted_at"}
    moment = moments.get(dataset, "created_at")
    return f"(({moment} >= ? and {moment} < ?) or {moment} is null)", [start, end]


def _selection(
    dataset: str, period: str | None, tenant_id: str | None, not_yet_passed: bool = False
) -> tuple[list[str], list[Any]]:
    """SQL conditions (and their parameters) that select the rows of `period` and `tenant_id` (and with
    `not_yet_passed`, only those of loaded files without a suite pass, and rows no loaded file accounts
    for: passes.py)."""
    _require_dataset(dataset)
    conditions: list[str] = []
    params: list[Any] = []
    if not_yet_passed:
        sql, values = passes.not_yet_passed(dataset)
        conditions.append(sql)
        params += values
    if period is not None:
        sql, values = _period_filter(dataset, *period_bounds(period))
        conditions.append(sql)
        params += values
    if tenant_id is not None:
        # Likewise a row without its required tenant is in every tenant's selection (a Stripe event
        # without a tenant tag is normal: it belongs to none).
        required = any(c.name == "tenant_id" and c.required for c in DATASETS[dataset].columns)
        conditions.append("(tenant_id = ? or tenant_id is null)" if required else "tenant_id = ?")
        params.append(tenant_id)
    return conditions, params


def _where(conditions: Sequence[str]) -> str:
    return f" where {' and '.join(conditions)}" if conditions else ""


def _select(dataset: str, conditions: Sequence[str]) -> str:
    columns = ", ".join(COLUMNS[dataset])
    return f"select {columns} from raw.{dataset}{_where(conditions)} order by _source_file, _source_row"


def fetch_rows(
    warehouse, dataset: str, *, period: str | None = None, tenant_id: str | None = None
) -> list[dict[str, Any]]:
    """The raw rows a suite validates: the columns its checks read and the delivery row id, in delivery
    order."""
    conditions, params = _selection(dataset, period, tenant_id)
    return warehouse.query(_select(dataset, conditions), params)


@dataclass(frozen=True)
class _Chunk:
    condition: str  # narrows the selection to some delivery files, or to a row range of one file
    params: tuple


def _plan_chunks(
    warehouse, dataset: str, conditions: list[str], params: list[Any], budget: int
) -> tuple[list[_Chunk], int]:
    """Split the selection into chunks of about `budget` rows, and count it.

    Every multi-row expectation (uniqueness) is an invariant of one delivery file, so whole files are
    grouped together; a file larger than the budget is cut into `_source_row` ranges, which keeps
    `source_row_unique` exact and checks `version_unique_per_file` within each range only.
    """
    files = warehouse.query(
        f"select _source_file, count(*) as row_count, min(_source_row) as first_row, "
        f"max(_source_row) as last_row from raw.{dataset}{_where(conditions)} "
        "group by _source_file order by _source_file",
        params,
    )
    chunks: list[_Chunk] = []
    group: list[str] = []
    group_rows = 0

    def flush() -> None:
        nonlocal group, group_rows
        if group:
            chunks.append(_Chunk(f"_source_file in ({', '.join('?' * len(group))})", tuple(group)))
        group, group_rows = [], 0

    for row in files:
        name, count = row["_source_file"], int(row["row_count"])
        first, last = row["first_row"], row["last_row"]
        if name is None:
            chunks.append(_Chunk("_source_file is null", ()))
        elif count > budget and first is not None:
            flush()
            parts = min(math.ceil(count / budget), int(last) - int(first) + 1)
            width = math.ceil((int(last) - int(first) + 1) / parts)
            bounds = [int(first) + i * width for i in range(parts)] + [int(last) + 1]
            for i in range(parts):
                in_range = "_source_row >= ? and _source_row < ?"
                if i == 0:  # rows without a row number travel with the first range
                    in_range = f"(({in_range}) or _source_row is null)"
                chunks.append(_Chunk(f"_source_file = ? and {in_range}", (name, bounds[i], bounds[i + 1])))
        else:
            if group and (group_rows + count > budget or len(group) >= MAX_FILES_PER_CHUNK):
                flush()
            group.append(name)
            group_rows += count
    flush()
    return chunks, sum(int(row["row_count"]) for row in files)


def _frame(dataset: str, rows: list[dict[str, Any]]):
    """A DataFrame of the driver's values as they are: `object` columns, so cents stay Python ints and
    text stays text. Timestamp columns whose values are all naive datetimes become datetime64[us]
    (exact: raw timestamps have microsecond precision) so GX compares them vectorised; a column holding
    anything else stays `object`, and a comparison that cannot be made fails its expectation."""
    import pandas as pd

    frame = {}
    for column in COLUMNS[dataset]:
        values = [row[column] for row in rows]
        series = pd.Series(values, dtype=object)
        if column in TIMESTAMP_COLUMNS[dataset] and all(
            value is None or (type(value) is datetime and value.tzinfo is None) for value in values
        ):
            series = pd.Series(values, dtype="datetime64[us]")
        frame[column] = series
    return pd.DataFrame(frame)
