"""Great Expectations suites on the raw layer: what the load contracts do not check.

The loader's contract checks (`ingestion/contracts.py`) look at one record at a time as it arrives; they
say nothing about rows written to `raw.*` some other way, about timestamps that contradict each other, or
about delivery rows that appear twice. These suites do, one per raw dataset, built in code on an
ephemeral GX context (no GX project folder on disk). Each expectation carries a stable check id
(`ge.<dataset>.<name>`) and a `blocking` flag in its `meta`: blocking expectations protect money (keys,
amounts, currencies, timestamp order, delivery rows counted once) and fail the period gate; the others
warn.

Rows are read through `settld.warehouse` (portable SQL, DuckDB or Postgres) into a pandas DataFrame of
plain Python values (`object` columns, so cents stay `int` and are never compared as floats) and
validated with a pandas datasource: GX on DuckDB through duckdb-engine evaluates nothing and reports
failure silently (see the toolchain notes). Validation fails closed: an expectation that raises, or
whose result does not cover the rows it was given, counts as failed with the reason in `details`.

A period selects the rows the dbt staging models assign to it: payout instructions by their `period`,
operations by the UTC month of their first event (`initiated_at`, else the earliest state timestamp),
Stripe events by `created_at`, and settlements by the month they were locked in *and* the month they
were resolved in (usage belongs to the resolution month, DECISIONLOG "Time and periods"; checking both
keeps a settlement resolved in P but locked earlier inside P's gate). Rows that cannot be placed (no
period-defining timestamp or period, no tenant where the contract requires one) are in every period's
and every tenant's selection: their blocking not-null checks fail every gate rather than none.

GX is imported on first use, not with this module: importing it costs seconds, and the Dagster code
location imports this module to define its checks.
"""

from __future__ import annotations

import math
import re
import shutil
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ingestion.contracts import (
    CURRENCY_SQL_PATTERN,
    DATASETS,
    DIRECTIONS,
    DISPUTE_STATUSES,
    OPERATION_STATES,
    PARTY_ROLES,
    SETTLEMENT_STATUSES,
)

PERIOD_PATTERN = r"^[0-9]{4}-(?:0[1-9]|1[0-2])$"
STRIPE_EVENT_TYPE_PATTERN = r"^[a-z_]+(?:\.[a-z_]+)+$"
ROW_ID_COLUMNS = ("_source_file", "_source_row")
DATA_DOCS_SITE = "settld_raw_quality"
MAX_EXAMPLES = 5
RESULT_FORMAT = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": MAX_EXAMPLES,
    "unexpected_index_column_names": list(ROW_ID_COLUMNS),
}
OPERATION_STATE_TIMESTAMPS = ("submitted_at", "confirmed_at", "failed_at", "cancelled_at", "reversed_at")
# Rows validated at a time: bounds memory on whole-table validations of large warehouses.
CHUNK_ROWS = 250_000
MAX_FILES_PER_CHUNK = 500
# GX keeps some state process-wide (its active context): one validation at a time per process.
_GX_LOCK = threading.RLock()
TIMESTAMP_COLUMNS = {
    name: frozenset(c.name for c in d.columns if c.kind in ("timestamp", "epoch_seconds"))
    for name, d in DATASETS.items()
}


# ---------------------------------------------------------------------------------------------------------
# Public results


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result on one batch of raw rows."""

    check_id: str
    dataset: str
    expectation_type: str
    blocking: bool
    success: bool
    evaluated_rows: int
    unexpected_count: int
    details: dict  # JSON-serializable and small: a few unexpected examples, or the error


@dataclass(frozen=True)
class SuiteOutcome:
    """A dataset's suite on the rows of one period and tenant (or the whole table)."""

    dataset: str
    success: bool
    evaluated_rows: int
    outcomes: tuple[ExpectationOutcome, ...]

    @property
    def failures(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.success)

    @property
    def blocking_failures(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.outcomes if o.blocking and not o.success)


# ---------------------------------------------------------------------------------------------------------
# The checks, as data (GX objects are built from them when a validation runs)


@dataclass(frozen=True)
class RawCheck:
    check_id: str
    dataset: str
    expectation: str  # GX expectation class, e.g. "ExpectColumnValuesToNotBeNull"
    kwargs: Mapping[str, Any]
    blocking: bool
    description: str
    # Only rows where `column == value` are checked (a GX row condition).
    condition: tuple[str, str] | None = None
    expectation_type: str = field(init=False)

    def __post_init__(self) -> None:
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", self.expectation).lower()
        object.__setattr__(self, "expectation_type", snake)


def _check(dataset: str, name: str, expectation: str, blocking: bool, description: str, **kwargs: Any):
    condition = kwargs.pop("condition", None)
    return RawCheck(
        f"ge.{dataset}.{name}", dataset, expectation, kwargs, blocking, description, condition=condition
    )


def _key(dataset: str, column: str) -> list[RawCheck]:
    return [
        _check(dataset, f"{column}_not_null", "ExpectColumnValuesToNotBeNull", True,
               f"Key column {column} is present on every row.", column=column),
        _check(dataset, f"{column}_is_text", "ExpectColumnValuesToBeInTypeList", True,
               f"Key column {column} holds text.", column=column, type_list=["str"]),
    ]  # fmt: skip


def _required(dataset: str, column: str, blocking: bool = False, why: str = "") -> RawCheck:
    return _check(dataset, f"{column}_not_null", "ExpectColumnValuesToNotBeNull", blocking,
                  f"{column} is present on every row.{' ' + why if why else ''}", column=column)  # fmt: skip


def _amount(dataset: str, column: str, *, minimum: int, required: bool) -> list[RawCheck]:
    bound = "positive" if minimum == 1 else "non_negative"
    checks = [_required(dataset, column, True, "Money needs an amount.")] if required else []
    return checks + [
        _check(dataset, f"{column}_is_integer", "ExpectColumnValuesToBeInTypeList", True,
               f"{column} is whole cents (an integer, never a float).", column=column, type_list=["int"]),
        _check(dataset, f"{column}_{bound}", "ExpectColumnValuesToBeBetween", True,
               f"{column} is at least {minimum} cent{'s' if minimum != 1 else ''}.",
               column=column, min_value=minimum),
    ]  # fmt: skip


def _currency(dataset: str) -> list[RawCheck]:
    return [
        _required(dataset, "currency", True, "An amount without a currency is not money."),
        _check(dataset, "currency_is_iso_code", "ExpectColumnValuesToMatchRegex", True,
               "currency is an ISO-4217 style code: three upper-case letters.",
               column="currency", regex=CURRENCY_SQL_PATTERN),
    ]  # fmt: skip


def _accepted(dataset: str, column: str, values: Sequence[str]) -> RawCheck:
    return _check(dataset, f"{column}_accepted", "ExpectColumnValuesToBeInSet", False,
                  f"{column} is one of {', '.join(values)}.", column=column, value_set=list(values))  # fmt: skip


def _not_before(dataset: str, later: str, earlier: str, blocking: bool = True) -> RawCheck:
    name = f"{later.removesuffix('_at')}_after_{earlier.removesuffix('_at')}"
    return _check(dataset, name, "ExpectColumnPairValuesAToBeGreaterThanB", blocking,
                  f"{later} is not before {earlier} where both are present.",
                  column_A=later, column_B=earlier, or_equal=True, ignore_row_if="either_value_is_missing")  # fmt: skip


def _delivery_rows_unique(dataset: str) -> RawCheck:
    return _check(dataset, "source_row_unique", "ExpectCompoundColumnsToBeUnique", True,
                  "Each delivered row (_source_file, _source_row) is loaded once: a row loaded twice "
                  "counts its money twice.", column_list=list(ROW_ID_COLUMNS))  # fmt: skip


def _version_unique_per_file(dataset: str, key: Sequence[str]) -> RawCheck:
    # The same version may arrive in two files (a re-delivery, settled in staging), but two versions
    # with one updated_at in one file are a source defect that only the row order settles.
    return _check(dataset, "version_unique_per_file", "ExpectCompoundColumnsToBeUnique", False,
                  f"One version per ({', '.join(key)}, updated_at) within a delivery file.",
                  column_list=[*key, "_source_file", "updated_at"])  # fmt: skip


def _state_has_timestamp(dataset: str, state_column: str, state: str, timestamp: str) -> RawCheck:
    return _check(dataset, f"{state}_has_{timestamp}", "ExpectColumnValuesToNotBeNull", False,
                  f"Rows in {state_column} '{state}' carry {timestamp}.",
                  column=timestamp, condition=(state_column, state))  # fmt: skip


def _catalogue() -> dict[str, tuple[RawCheck, ...]]:
    s, p, o, e = "settlements", "payout_instructions", "money_rail_operations", "stripe_events"
    # fmt: off
    settlements = [
        *_key(s, "tenant_id"), *_key(s, "settlement_id"),
        _required(s, "run_id"), _required(s, "payer_agent_id"), _required(s, "payee_agent_id"),
        *_amount(s, "amount_cents", minimum=1, required=True),
        *_amount(s, "released_amount_cents", minimum=0, required=False),
        *_amount(s, "refunded_amount_cents", minimum=0, required=False),
        _check(s, "released_within_amount", "ExpectColumnPairValuesAToBeGreaterThanB", True,
               "No more is released than the settlement holds.", column_A="amount_cents",
               column_B="released_amount_cents", or_equal=True, ignore_row_if="either_value_is_missing"),
        _check(s, "refunded_within_amount", "ExpectColumnPairValuesAToBeGreaterThanB", True,
               "No more is refunded than the settlement holds.", column_A="amount_cents",
               column_B="refunded_amount_cents", or_equal=True, ignore_row_if="either_value_is_missing"),
        *_currency(s),
        _accepted(s, "status", SETTLEMENT_STATUSES),
        _accepted(s, "dispute_status", DISPUTE_STATUSES),
        _required(s, "locked_at", True, "Its month places the settlement in a period."),
        _required(s, "updated_at", True, "Staging keeps the latest version by updated_at."),
        _not_before(s, "resolved_at", "locked_at"),
        _not_before(s, "updated_at", "locked_at"),
        _not_before(s, "updated_at", "resolved_at"),
        _state_has_timestamp(s, "status", "released", "resolved_at"),
        _state_has_timestamp(s, "status", "refunded", "resolved_at"),
        _delivery_rows_unique(s),
        _version_unique_per_file(s, ("tenant_id", "settlement_id")),
    ]
    instructions = [
        *_key(p, "tenant_id"), *_key(p, "payout_key"),
        _required(p, "party_id"), _required(p, "provider_id"),
        _accepted(p, "party_role", PARTY_ROLES),
        _required(p, "period", True, "The period decides which gate the instruction is reconciled in."),
        _check(p, "period_is_month", "ExpectColumnValuesToMatchRegex", True,
               "period is a calendar month, YYYY-MM.", column="period", regex=PERIOD_PATTERN),
        *_amount(p, "amount_cents", minimum=0, required=True),
        *_currency(p),
        _required(p, "created_at"),
        _delivery_rows_unique(p),
    ]
    operations = [
        *_key(o, "provider_id"), *_key(o, "operation_id"), *_key(o, "tenant_id"),
        _accepted(o, "direction", DIRECTIONS),
        _accepted(o, "state", OPERATION_STATES),
        *_amount(o, "amount_cents", minimum=0, required=True),
        *_currency(o),
        _required(o, "initiated_at", True, "Its month places an unmatched operation in a period."),
        _required(o, "updated_at", True, "Staging keeps the latest version by updated_at."),
        _not_before(o, "submitted_at", "initiated_at"),
        _not_before(o, "confirmed_at", "submitted_at"),
        _not_before(o, "confirmed_at", "initiated_at"),
        _not_before(o, "failed_at", "initiated_at"),
        _not_before(o, "cancelled_at", "initiated_at"),
        _not_before(o, "reversed_at", "confirmed_at"),
        _not_before(o, "updated_at", "initiated_at"),
        *(_not_before(o, "updated_at", column) for column in OPERATION_STATE_TIMESTAMPS),
        *(_state_has_timestamp(o, "state", c.removesuffix("_at"), c) for c in OPERATION_STATE_TIMESTAMPS),
        _delivery_rows_unique(o),
        _version_unique_per_file(o, ("provider_id", "operation_id")),
    ]
    events = [
        *_key(e, "event_id"),
        _required(e, "event_type"),
        _check(e, "event_type_format", "ExpectColumnValuesToMatchRegex", False,
               "event_type looks like a Stripe event type (object.action).",
               column="event_type", regex=STRIPE_EVENT_TYPE_PATTERN),
        _required(e, "object_type"),
        _required(e, "created_at", True, "Its month places the event in a period."),
        _check(e, "tenant_id_is_text", "ExpectColumnValuesToBeInTypeList", False,
               "tenant_id, where tagged, is text.", column="tenant_id", type_list=["str"]),
        _check(e, "livemode_is_boolean", "ExpectColumnValuesToBeInTypeList", False,
               "livemode, where present, is a boolean.", column="livemode", type_list=["bool"]),
        _delivery_rows_unique(e),
    ]
    # fmt: on
    catalogue = {s: settlements, p: instructions, o: operations, e: events}
    return {name: tuple(checks) for name, checks in catalogue.items()}


CHECKS: dict[str, tuple[RawCheck, ...]] = _catalogue()
assert set(CHECKS) == set(DATASETS), "one suite per raw dataset"
assert len({c.check_id for checks in CHECKS.values() for c in checks}) == sum(map(len, CHECKS.values()))


def _checked_columns(dataset: str) -> tuple[str, ...]:
    """The raw columns a suite reads (contract order), then the delivery row id."""
    used: set[str] = set()
    for check in CHECKS[dataset]:
        kwargs = check.kwargs
        used.update(kwargs.get(key) for key in ("column", "column_A", "column_B") if kwargs.get(key))
        used.update(kwargs.get("column_list", ()))
        if check.condition:
            used.add(check.condition[0])
    return (*(c for c in DATASETS[dataset].column_names if c in used), *ROW_ID_COLUMNS)


# Only these are fetched: GX copies the frame for each expectation, so unread columns cost time.
COLUMNS: dict[str, tuple[str, ...]] = {name: _checked_columns(name) for name in DATASETS}


def check_catalogue() -> list[dict[str, Any]]:
    """Every check id with its dataset, expectation type, blocking flag and description."""
    return [
        {"check_id": c.check_id, "dataset": c.dataset, "expectation_type": c.expectation_type,
         "blocking": c.blocking, "description": c.description}
        for checks in CHECKS.values() for c in checks
    ]  # fmt: skip


def build_suite(dataset: str):
    """The dataset's `great_expectations.ExpectationSuite`, named `raw.<dataset>`."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity
    from great_expectations.expectations.row_conditions import Column

    _require_dataset(dataset)
    expectations = []
    for check in CHECKS[dataset]:
        kwargs = dict(check.kwargs)
        if check.condition is not None:
            column, value = check.condition
            kwargs["row_condition"] = Column(column) == value
        expectations.append(
            getattr(gxe, check.expectation)(
                **kwargs,
                meta={"check_id": check.check_id, "blocking": check.blocking},
                # Data Docs show the description in place of GX's sentence: lead with the check id.
                description=f"{check.check_id} ({'blocking' if check.blocking else 'warning'}): "
                f"{check.description}",
                severity=FailureSeverity.CRITICAL if check.blocking else FailureSeverity.WARNING,
            )
        )
    # Passed to the constructor: `suite.add_expectation` would look for a store in GX's active context.
    suite = gx.ExpectationSuite(
        name=f"raw.{dataset}",
        expectations=expectations,
        meta={"notes": f"Checks on raw.{dataset} beyond its load contract (quality/raw_suites.py)."},
    )
    return suite


# ---------------------------------------------------------------------------------------------------------
# Which rows: period and tenant, in SQL that runs on DuckDB and Postgres


def _require_dataset(dataset: str) -> None:
    if dataset not in DATASETS:
        raise ValueError(f"unknown raw dataset {dataset!r} (one of {', '.join(DATASETS)})")


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
    if dataset == "payout_instructions":
        return "(period = ? or period is null)", [f"{start:%Y-%m}"]
    if dataset == "settlements":
        return (
            "((locked_at >= ? and locked_at < ?) or (resolved_at >= ? and resolved_at < ?) "
            "or locked_at is null)",
            [start, end, start, end],
        )
    moment = _first_event_sql() if dataset == "money_rail_operations" else "created_at"
    return f"(({moment} >= ? and {moment} < ?) or {moment} is null)", [start, end]


def _selection(dataset: str, period: str | None, tenant_id: str | None) -> tuple[list[str], list[Any]]:
    """SQL conditions (and their parameters) that select the rows of `period` and `tenant_id`."""
    _require_dataset(dataset)
    conditions: list[str] = []
    params: list[Any] = []
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


# ---------------------------------------------------------------------------------------------------------
# Running the suites


class _Session:
    """One ephemeral GX context: a pandas datasource, the suites, and optionally a Data Docs site."""

    def __init__(self, data_docs_dir: Path | None = None) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self.source = self.context.data_sources.add_pandas("raw")
        self.definitions: dict[str, Any] = {}
        self.data_docs_dir = data_docs_dir
        if data_docs_dir is not None:
            self.context.add_data_docs_site(
                DATA_DOCS_SITE,
                {
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(data_docs_dir),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )

    def validate(self, dataset: str, frame, run_name: str):
        """Validate one DataFrame (a whole-dataframe batch) against the dataset's suite."""
        from great_expectations.core.run_identifier import RunIdentifier

        definition = self.definitions.get(dataset)
        if definition is None:
            batch = self.source.add_dataframe_asset(name=dataset).add_batch_definition_whole_dataframe(
                "whole_dataframe"
            )
            suite = self.context.suites.add(build_suite(dataset))
            definition = self.context.validation_definitions.add(
                self.gx.ValidationDefinition(name=f"raw.{dataset}", data=batch, suite=suite)
            )
            self.definitions[dataset] = definition
        return definition.run(
            batch_parameters={"dataframe": frame},
            result_format=RESULT_FORMAT,
            run_id=RunIdentifier(run_name=run_name, run_time=datetime.now(UTC)),
        )

    def build_data_docs(self) -> Path:
        self.context.build_data_docs(site_names=[DATA_DOCS_SITE])
        index = self.data_docs_dir / "index.html" if self.data_docs_dir else None
        if index is None or not index.is_file():
            raise RuntimeError(f"GX built no Data Docs index in {self.data_docs_dir}")
        return index


def _run_name(period: str | None, tenant_id: str | None, part: int = 1, parts: int = 1) -> str:
    # Part of the Data Docs page path: no spaces.
    name = f"{period or 'all-periods'}__{tenant_id or 'all-tenants'}"
    return name if parts == 1 else f"{name}__chunk-{part}-of-{parts}"


def _validate(
    session: _Session, warehouse, dataset: str, period: str | None, tenant_id: str | None
) -> SuiteOutcome:
    conditions, params = _selection(dataset, period, tenant_id)  # a bad period is the caller's error
    try:
        chunks, planned = _plan_chunks(warehouse, dataset, conditions, params, CHUNK_ROWS)
    except Exception as error:  # fail closed: rows that cannot be read pass nothing
        return _failed_closed(dataset, 0, f"cannot read raw.{dataset}: {type(error).__name__}: {error}")
    parts: list[tuple[ExpectationOutcome, ...]] = []
    seen = 0
    # No rows: GX still validates an empty frame, so the outcome and the Data Docs come from GX.
    for index, chunk in enumerate(chunks or [None], start=1):
        chunk_conditions = conditions + ([chunk.condition] if chunk else [])
        chunk_params = params + (list(chunk.params) if chunk else [])
        try:
            rows = warehouse.query(_select(dataset, chunk_conditions), chunk_params)
        except Exception as error:
            return _failed_closed(
                dataset, seen, f"cannot read raw.{dataset}: {type(error).__name__}: {error}"
            )
        seen += len(rows)
        try:
            frame = _frame(dataset, rows)
            del rows
            result = session.validate(dataset, frame, _run_name(period, tenant_id, index, len(chunks)))
        except Exception as error:
            return _failed_closed(dataset, seen, f"validation raised {type(error).__name__}: {error}")
        parts.append(_chunk_outcomes(dataset, len(frame), result))
    if seen != planned:
        return _failed_closed(
            dataset, seen, f"raw.{dataset} changed while it was validated ({planned} rows, then {seen})"
        )
    outcomes = tuple(_merge(list(same)) for same in zip(*parts, strict=True))
    return SuiteOutcome(dataset, all(o.success for o in outcomes), seen, outcomes)


def _failed_closed(dataset: str, rows: int, error: str) -> SuiteOutcome:
    outcomes = tuple(
        ExpectationOutcome(c.check_id, dataset, c.expectation_type, c.blocking, False, 0, 0, {"error": error})
        for c in CHECKS[dataset]
    )
    return SuiteOutcome(dataset, False, rows, outcomes)


def _chunk_outcomes(dataset: str, rows: int, result) -> tuple[ExpectationOutcome, ...]:
    by_id = {}
    for item in result.results:
        by_id.setdefault((item.expectation_config.meta or {}).get("check_id"), item)
    return tuple(_outcome(check, rows, by_id.get(check.check_id)) for check in CHECKS[dataset])


def _merge(parts: list[ExpectationOutcome]) -> ExpectationOutcome:
    """One expectation's outcome over all chunks."""
    first = parts[0]
    evaluated = sum(p.evaluated_rows for p in parts)
    unexpected = sum(p.unexpected_count for p in parts)
    details: dict[str, Any] = {}
    examples = [e for p in parts for e in p.details.get("unexpected_examples", [])]
    if examples:
        details["unexpected_examples"] = examples[:MAX_EXAMPLES]
    if unexpected and evaluated:
        details["unexpected_percent"] = round(100 * unexpected / evaluated, 4)
    errors = [p.details["error"] for p in parts if "error" in p.details]
    if errors:
        details["error"] = errors[0]
    if len(parts) > 1:
        details["chunks"] = len(parts)
    success = all(p.success for p in parts)
    return ExpectationOutcome(first.check_id, first.dataset, first.expectation_type, first.blocking,
                              success, evaluated, unexpected, details)  # fmt: skip


def _outcome(check: RawCheck, rows: int, item) -> ExpectationOutcome:
    def failed(error: str, evaluated: int = 0, unexpected: int = 0) -> ExpectationOutcome:
        return ExpectationOutcome(check.check_id, check.dataset, check.expectation_type, check.blocking,
                                  False, evaluated, unexpected, {"error": error})  # fmt: skip

    if item is None:
        return failed("GX returned no result for this expectation")
    error = _exception_message(item.exception_info)
    if error is not None:
        return failed(f"the expectation raised: {error}")
    result = dict(item.result or {})
    element_count = result.get("element_count")
    unexpected = result.get("unexpected_count")
    if not isinstance(element_count, int) or not isinstance(unexpected, int):
        return failed("GX reported no element or unexpected count: nothing was evaluated")
    # A row condition narrows the rows judged; otherwise every row handed over must have been seen.
    if element_count > rows or (check.condition is None and element_count != rows):
        return failed(f"GX evaluated {element_count} of {rows} rows", element_count, unexpected)
    success = item.success is True and unexpected == 0
    evaluated = element_count - int(result.get("missing_count") or 0)
    details: dict[str, Any] = {}
    if unexpected:
        examples = result.get("partial_unexpected_index_list") or result.get("partial_unexpected_list") or []
        details["unexpected_examples"] = _jsonable(list(examples)[:MAX_EXAMPLES])
    if not success and not unexpected:
        details["error"] = "GX reported failure without unexpected rows"
    return ExpectationOutcome(check.check_id, check.dataset, check.expectation_type, check.blocking,
                              success, evaluated, unexpected, details)  # fmt: skip


def _exception_message(info: Any) -> str | None:
    """The first raised exception in a GX exception_info (flat, or keyed by metric)."""
    if not isinstance(info, Mapping):
        return None
    if "raised_exception" in info:
        return str(info.get("exception_message") or "unknown error") if info["raised_exception"] else None
    for value in info.values():
        message = _exception_message(value)
        if message is not None:
            return message
    return None


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _jsonable(item())
    return str(value)


# ---------------------------------------------------------------------------------------------------------
# Public API


def validate_raw(
    warehouse, dataset: str, *, period: str | None = None, tenant_id: str | None = None
) -> SuiteOutcome:
    """Validate `raw.<dataset>` (the rows of `period` and `tenant_id` when given; all rows otherwise)."""
    with _GX_LOCK:
        return _validate(_Session(), warehouse, dataset, period, tenant_id)


def validate_all(
    warehouse, *, period: str | None = None, tenant_id: str | None = None
) -> dict[str, SuiteOutcome]:
    """Every raw dataset's suite, each validated once, in one GX context."""
    with _GX_LOCK:
        session = _Session()
        return {name: _validate(session, warehouse, name, period, tenant_id) for name in DATASETS}


def validate_all_with_data_docs(
    directory: Path, *, warehouse, period: str | None = None, tenant_id: str | None = None
) -> tuple[dict[str, SuiteOutcome], Path]:
    """`validate_all` and the GX Data Docs of that validation in `directory`, in one pass."""
    directory = Path(directory).expanduser().resolve()
    with _GX_LOCK:
        directory.mkdir(parents=True, exist_ok=True)
        # GX owns these folders of the site; pages of earlier validations would linger unlinked.
        for owned in ("expectations", "validations"):
            shutil.rmtree(directory / owned, ignore_errors=True)
        session = _Session(data_docs_dir=directory)
        outcomes = {name: _validate(session, warehouse, name, period, tenant_id) for name in DATASETS}
        return outcomes, session.build_data_docs()


def write_data_docs(
    directory: Path, *, period: str | None = None, tenant_id: str | None = None, warehouse
) -> Path:
    """Validate every raw dataset and build GX's HTML Data Docs in `directory`; returns index.html."""
    return validate_all_with_data_docs(directory, warehouse=warehouse, period=period, tenant_id=tenant_id)[1]
