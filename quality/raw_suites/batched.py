"""Every tenant's suites for one period with one GX validation per dataset, not one per tenant.

Great Expectations costs about a second of Python per `validate_all` whatever the rows (measured:
docs/performance.md, "Fixed cost"), and the period gate asked for one per tenant and period. Here each
dataset's suite is validated once on the period's rows of every tenant; each tenant's outcome is then
derived from that one validation, and is the very outcome `validate_all(period=, tenant_id=)` gives:

- Every expectation is a row's own rule (a column's value, a pair of columns, a row condition) or a
  uniqueness over rows. A row that breaks no rule among all the period's rows breaks none among a
  tenant's share of them, and rows unique among all are unique among some. So when the period's rows
  pass every expectation with no unexpected row, each tenant's rows pass every one too, and only the
  counts of rows evaluated are the tenant's own: counted in SQL by the rule GX counts them (rows the row
  condition keeps, less rows GX leaves out as missing).
- With `reuse_passes` (the daily run's gate) GX validates only the period's rows of files that have no
  suite pass yet (passes.py); the rows of passed files are counted, not validated again, and a period
  whose files have all passed is not handed to GX at all.
- When any expectation of a dataset finds an unexpected row, raises, or cannot read the rows, that
  dataset is validated again tenant by tenant, exactly as before: which tenant's rows are at fault, and
  the examples, come from GX itself.

tests/test_quality.py compares the two ways on clean and broken rows.
"""

from __future__ import annotations

from typing import Any

from ingestion.contracts import DATASETS
from quality.raw_suites import passes
from quality.raw_suites.catalogue import CHECKS, COLUMNS, RawCheck
from quality.raw_suites.selection import CHUNK_ROWS, _frame, _plan_chunks, _select, _selection, _where
from quality.raw_suites.validation import (
    _GX_LOCK,
    ExpectationOutcome,
    SuiteOutcome,
    _chunk_outcomes,
    _run_name,
    _Session,
    _validate,
)


def validate_all_tenants(
    warehouse, *, period: str, tenant_ids: list[str], reuse_passes: bool = False
) -> dict[str, dict[str, SuiteOutcome]]:
    """`validate_all(warehouse, period=period, tenant_id=t)` for every `t` of `tenant_ids`, by tenant.

    `reuse_passes` (the daily run's gate): GX validates only the period's rows of files without a suite
    pass (passes.py); the rows of files that passed count as they did then. The outcomes are the same as
    long as the passes hold (a file's rows unchanged since), which only a full validation proves: a
    close asks for one (`settld gate`)."""
    with _GX_LOCK:
        session = _Session()
        outcomes: dict[str, dict[str, SuiteOutcome]] = {tenant: {} for tenant in tenant_ids}
        for dataset in DATASETS:
            shared = _clean_period(session, warehouse, dataset, period, tenant_ids, reuse_passes)
            for tenant in tenant_ids:
                outcomes[tenant][dataset] = (
                    shared[tenant]
                    if shared is not None
                    else _validate(session, warehouse, dataset, period, tenant)
                )
        return outcomes


def raw_suites_by_tenant(
    warehouse, *, period: str, tenant_ids: list[str], reuse_passes: bool = False
) -> dict[str, dict[str, SuiteOutcome]]:
    """`validate_all_tenants`, or {} when it cannot run: the gate then validates each tenant alone, and
    each fails closed with its own reason."""
    try:
        return validate_all_tenants(
            warehouse, period=period, tenant_ids=tenant_ids, reuse_passes=reuse_passes
        )
    except Exception:  # noqa: BLE001 - see above
        return {}


def _clean_period(
    session: _Session,
    warehouse,
    dataset: str,
    period: str,
    tenant_ids: list[str],
    reuse_passes: bool,
) -> dict[str, SuiteOutcome] | None:
    """Each tenant's outcome when the period's rows of `dataset` (with `reuse_passes`, those of files
    without a pass) pass every expectation without an unexpected row; None when they do not (or cannot
    be read), and the tenants are validated one by one, every row of the period."""
    if "tenant_id" not in COLUMNS[dataset]:
        return None
    conditions, params = _selection(dataset, period, None, not_yet_passed=reuse_passes)
    try:
        chunks, planned = _plan_chunks(warehouse, dataset, conditions, params, CHUNK_ROWS)
        if reuse_passes:  # the chunks a validation of every row of the period takes
            whole, whole_params = _selection(dataset, period, None)
            period_chunks = len(_plan_chunks(warehouse, dataset, whole, whole_params, CHUNK_ROWS)[0])
        else:
            period_chunks = len(chunks)
    except Exception:  # noqa: BLE001 - the tenant-by-tenant path reports it, failing closed
        return None
    seen = 0
    # With reuse_passes and every file of the period passed, there is nothing for GX to validate.
    for index, chunk in enumerate(chunks or ([] if reuse_passes and not planned else [None]), start=1):
        try:
            rows = warehouse.query(
                _select(dataset, conditions + ([chunk.condition] if chunk else [])),
                params + (list(chunk.params) if chunk else []),
            )
            seen += len(rows)
            frame = _frame(dataset, rows)
            del rows
            result = session.validate(dataset, frame, _run_name(period, None, index, len(chunks)))
            outcomes = _chunk_outcomes(dataset, len(frame), result)
        except Exception:  # noqa: BLE001 - as above
            return None
        if not passes.is_clean(outcomes):
            return None
    if seen != planned:
        return None
    try:
        counts = _evaluated_by_tenant(warehouse, dataset, period, tenant_ids)
    except Exception:  # noqa: BLE001 - as above
        return None
    return {
        tenant: _suite(
            dataset, counts[tenant], _tenant_chunks(warehouse, dataset, period, tenant, period_chunks)
        )
        for tenant in tenant_ids
    }


def _evaluated_by_tenant(warehouse, dataset: str, period: str, tenant_ids: list[str]) -> dict[str, list[int]]:
    """Per tenant: the period's rows in its selection, then per check the rows GX evaluates, counted in
    SQL over every row of the period (a row without its required tenant is in every tenant's selection,
    selection.py)."""
    columns, column_params = ["count(*)"], []
    for check in CHECKS[dataset]:
        kept, values = _evaluated_sql(check)
        columns.append(f"sum(case when {kept} then 1 else 0 end)")
        column_params += values
    conditions, params = _selection(dataset, period, None)
    named = ", ".join(f"{sql} as n{i}" for i, sql in enumerate(columns))
    rows = warehouse.query(
        f"select tenant_id, {named} from raw.{dataset}{_where(conditions)} group by tenant_id",
        column_params + params,
    )
    by_tenant = {row["tenant_id"]: [int(row[f"n{i}"] or 0) for i in range(len(columns))] for row in rows}
    none = [0] * len(columns)
    required = any(c.name == "tenant_id" and c.required for c in DATASETS[dataset].columns)
    nobody = by_tenant.get(None, none) if required else none
    return {
        tenant: [own + shared for own, shared in zip(by_tenant.get(tenant, none), nobody, strict=True)]
        for tenant in tenant_ids
    }


def _evaluated_sql(check: RawCheck) -> tuple[str, list]:
    """The rows GX counts as evaluated, as a SQL condition: those its row condition keeps, less those it
    leaves out as missing (`element_count - missing_count`, as `validation._outcome` reads GX's result)."""
    kwargs = check.kwargs
    if check.expectation == "ExpectColumnValuesToNotBeNull":
        kept = "1 = 1"
    elif "column" in kwargs:
        kept = f"{kwargs['column']} is not null"
    elif "column_A" in kwargs:  # ignore_row_if="either_value_is_missing"
        kept = f"{kwargs['column_A']} is not null and {kwargs['column_B']} is not null"
    else:  # compound uniqueness: GX leaves out rows whose every column is missing
        kept = "(" + " or ".join(f"{column} is not null" for column in kwargs["column_list"]) + ")"
    if check.condition is None:
        return kept, []
    column, value = check.condition
    return f"{column} = ? and {kept}", [value]


def _tenant_chunks(warehouse, dataset: str, period: str, tenant: str, period_chunks: int) -> int:
    """How many chunks the tenant's own selection takes (a detail of its outcomes when more than one)."""
    if period_chunks <= 1:  # a share of one chunk's rows and files fits in one chunk
        return 1
    conditions, params = _selection(dataset, period, tenant)
    return max(len(_plan_chunks(warehouse, dataset, conditions, params, CHUNK_ROWS)[0]), 1)


def _suite(dataset: str, counts: list[int], chunks: int) -> SuiteOutcome:
    details: dict[str, Any] = {"chunks": chunks} if chunks > 1 else {}
    outcomes = tuple(
        ExpectationOutcome(check.check_id, dataset, check.expectation_type, check.blocking, True,
                           evaluated, 0, dict(details))
        for check, evaluated in zip(CHECKS[dataset], counts[1:], strict=True)
    )  # fmt: skip
    return SuiteOutcome(dataset, True, counts[0], outcomes)
