"""Great Expectations suites on the raw layer as Dagster asset checks (one per raw dataset asset).

Each check runs its dataset's suite (`quality.raw_suites.validate_files_not_yet_passed`, one GX context)
on the rows of loaded files that have not passed it yet, and rows no loaded file accounts for; a clean
suite records a pass for those files (quality/raw_suites/passes.py), so the next run validates only what
is new, and a file that failed is validated again on every run until it is replaced. Every row was also
checked against its contract as it arrived, and `settld gate` validates every row of a period before a
close (quality/gate.py), so no row escapes the suites; a run does not re-read all of history through
pandas (docs/performance.md).
The checks are blocking: a failing blocking expectation (money: keys, amounts, currencies, timestamp
order, delivery rows counted once) reports ERROR and stops downstream assets in the same run; when only
non-blocking expectations fail the check reports WARN and lets the run go on.
"""

import dagster as dg

from ingestion.contracts import DATASETS
from orchestration.defs.landing.assets import DATASET_KEYS
from orchestration.resources import WarehouseResource
from quality.raw_suites import CHECKS, SuiteOutcome, validate_files_not_yet_passed

CHECK_NAME = "great_expectations_raw_suite"
RAW_SUITE_CHECKS = [dg.AssetCheckKey(key, CHECK_NAME) for key in DATASET_KEYS.values()]


def _spec(name: str) -> dg.AssetCheckSpec:
    blocking = sum(c.blocking for c in CHECKS[name])
    return dg.AssetCheckSpec(
        CHECK_NAME,
        asset=DATASET_KEYS[name],
        blocking=True,
        description=(
            f"Great Expectations suite `raw.{name}` ({len(CHECKS[name])} expectations, {blocking} "
            "blocking) on the rows of files that have not passed it yet: keys, amounts, currencies, "
            "timestamp order, enums. "
            "See quality/raw_suites/."
        ),
    )


def check_result(suite: SuiteOutcome) -> dg.AssetCheckResult:
    """The asset check result of one suite: ERROR when a blocking expectation failed, WARN otherwise."""
    blocking = [o.check_id for o in suite.blocking_failures]
    warning = [o.check_id for o in suite.failures if not o.blocking]
    errors = {o.check_id: o.details["error"] for o in suite.failures if "error" in o.details}
    return dg.AssetCheckResult(
        asset_key=DATASET_KEYS[suite.dataset],
        check_name=CHECK_NAME,
        passed=suite.success,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata={
            "evaluated_rows": suite.evaluated_rows,
            "expectations": len(suite.outcomes),
            "failed_expectations": len(suite.failures),
            "failed_blocking_check_ids": blocking,
            "failed_warning_check_ids": warning,
            "unexpected_rows_by_check": {o.check_id: o.unexpected_count for o in suite.failures},
            **({"errors": errors} if errors else {}),
        },
    )


@dg.multi_asset_check(
    name="raw_great_expectations",
    specs=[_spec(name) for name in DATASETS],
    can_subset=True,
)
def raw_great_expectations(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    selected = context.selected_asset_check_keys
    names = [name for name, key in DATASET_KEYS.items() if dg.AssetCheckKey(key, CHECK_NAME) in selected]
    with warehouse.connect() as db:  # writes the passes of files whose rows are clean
        suites = validate_files_not_yet_passed(db, datasets=names)  # one GX context for them all
        for name, suite in suites.items():
            context.log.info(
                f"raw.{name}: {suite.evaluated_rows} rows, "
                f"{len(suite.failures)}/{len(suite.outcomes)} expectations failed"
            )
            yield check_result(suite)
