"""The raw checks as data: one `RawCheck` per expectation, the catalogue of suites, and the GX suites
built from it.

Each expectation carries a stable check id (`ge.<dataset>.<name>`) and a `blocking` flag; GX objects are
built from these checks only when a validation runs (`build_suite`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
OPERATION_STATE_TIMESTAMPS = ("submitted_at", "confirmed_at", "failed_at", "cancelled_at", "reversed_at")


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
    catalogue = {s: settlements, p: instructions, o: operations, e: events, **_kernel_books()}
    return {name: tuple(checks) for name, checks in catalogue.items()}


def _kernel_books() -> dict[str, list[RawCheck]]:
    """The kernel's books: their keys and the row-delivery check. Their meaning (does the GL tie out with
    the statements, does escrow net close) is judged by the finance marts, not row by row."""
    keys = {
        "ledger_postings": ("tenant_id", "entry_id"),
        "gl_batches": ("tenant_id", "batch_id"),
        "gl_batch_lines": ("tenant_id", "batch_id"),
        "party_statements": ("tenant_id", "statement_id"),
        "party_statement_lines": ("tenant_id", "statement_id"),
        "held_exposure_rollforwards": ("tenant_id", "artifact_id"),
        "month_closes": ("tenant_id",),
    }
    return {
        name: [*(check for column in columns for check in _key(name, column)), _delivery_rows_unique(name)]
        for name, columns in keys.items()
    }


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
        meta={"notes": f"Checks on raw.{dataset} beyond its load contract (quality/raw_suites/)."},
    )
    return suite


def _require_dataset(dataset: str) -> None:
    if dataset not in DATASETS:
        raise ValueError(f"unknown raw dataset {dataset!r} (one of {', '.join(DATASETS)})")
