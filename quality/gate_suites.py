"""The period gate's `ge.<dataset>.<rule>` checks: the great-expectations suites on the period's raw rows
of one tenant (quality/raw_suites/), one check per expectation."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from quality.gate_check import Check
from settld.warehouse import Warehouse


def great_expectations_checks(
    db: Warehouse,
    *,
    tenant_id: str,
    period: str,
    data_docs_dir: Path | None = None,
    suites: Mapping[str, Any] | None = None,
) -> list[Check]:
    """One check per expectation; with `data_docs_dir`, GE's HTML Data Docs of the same validation.
    `suites`: the tenant's outcomes already validated with the period's other tenants (raw_suites.batched)."""
    from quality.raw_suites import validate_all, validate_all_with_data_docs

    if suites is None and data_docs_dir is None:
        suites = validate_all(db, period=period, tenant_id=tenant_id)
    elif suites is None:
        suites, _ = validate_all_with_data_docs(
            data_docs_dir, warehouse=db, period=period, tenant_id=tenant_id
        )
    checks = []
    for dataset, suite in sorted(suites.items()):
        for outcome in suite.outcomes:
            checks.append(
                Check(
                    outcome.check_id,
                    outcome.success,
                    outcome.blocking,
                    {
                        "dataset": dataset,
                        "evaluatedRows": outcome.evaluated_rows,
                        "unexpectedCount": outcome.unexpected_count,
                        **outcome.details,
                    },
                )  # fmt: skip
            )
    return checks
