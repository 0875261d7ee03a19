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

GX is imported on first use, not with this package: importing it costs seconds, and the Dagster code
location imports this package to define its checks.

Layout: `catalogue` holds the checks as data and builds the GX suites from them; `selection` picks a
period's and tenant's rows in SQL, plans chunks and builds the DataFrames; `validation` runs the suites
in a GX session and turns its results into `SuiteOutcome`s. Import from the package itself.
"""

from quality.raw_suites.catalogue import CHECKS, COLUMNS, RawCheck, build_suite, check_catalogue
from quality.raw_suites.selection import fetch_rows, period_bounds
from quality.raw_suites.validation import (
    ExpectationOutcome,
    SuiteOutcome,
    nothing_to_validate,
    validate_all,
    validate_all_with_data_docs,
    validate_files_not_yet_passed,
    validate_raw,
    write_data_docs,
)

__all__ = [
    "CHECKS",
    "COLUMNS",
    "ExpectationOutcome",
    "RawCheck",
    "SuiteOutcome",
    "build_suite",
    "check_catalogue",
    "fetch_rows",
    "nothing_to_validate",
    "period_bounds",
    "validate_all",
    "validate_all_with_data_docs",
    "validate_files_not_yet_passed",
    "validate_raw",
    "write_data_docs",
]
