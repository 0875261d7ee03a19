"""Per-period reconciliation reports (ReconcileReport.v1 artifacts) built from the reconciliation marts."""

import dagster as dg

from orchestration.as_of import run_as_of
from orchestration.partitions import period_partitions
from orchestration.resources import ArtifactsResource, WarehouseResource
from orchestration.stages import Stage, stage_tags
from reports.reconciliation import write_reports
from settld.money import major_units
from settld.vocabulary import MISMATCH_TYPES, MONEY_RAIL_MISMATCH_TYPES, MONEY_RAIL_SEVERITIES

MARTS = [
    dg.AssetKey(["marts", "fct_reconciliation_mismatches"]),
    dg.AssetKey(["marts", "fct_reconciliation_summary"]),
    dg.AssetKey(["marts", "fct_reconciliation_tieout"]),
]
LARGEST_MISMATCHES = 10


def _amount(cents: int | None, currency: str | None) -> str:
    return major_units(cents, currency) if cents is not None and currency else ""


def largest_mismatches_markdown(mismatches: list[dict]) -> str:
    """The period's largest mismatches, as a person reads them: the triage key the API takes, what the
    type means, and amounts in major units with their currency."""
    rows = sorted(mismatches, key=lambda m: (-abs(m["amountDeltaCents"] or m["expectedAmountCents"]
                                                  or m["actualAmountCents"] or 0), m["triageKey"]))  # fmt: skip
    lines = [
        "| severity | type | meaning | tenant | provider | expected | actual | triage key |",
        "|---|---|---|---|---|---:|---:|---|",
    ]
    for m in rows[:LARGEST_MISMATCHES]:
        actual_currency = m.get("actualCurrency") or m["currency"]
        lines.append(
            f"| {m['severity']} | {m['mismatchType']} | {MISMATCH_TYPES[m['mismatchType']].title} | "
            f"{m['tenantId']} | {m['providerId']} | {_amount(m['expectedAmountCents'], m['currency'])} | "
            f"{_amount(m['actualAmountCents'], actual_currency)} | `{m['triageKey']}` |"
        )
    return "\n".join(lines) if rows else "No mismatches."


def period_metadata(reports: list[dict]) -> dict:
    """What one period's partition shows: its own reports and mismatches, never another period's."""
    mismatches = [{**m, "tenantId": r["tenantId"], "providerId": r["providerId"]}
                  for r in reports for m in r["mismatches"]]  # fmt: skip
    return {
        "reports": len(reports),
        "reports_failing": sum(report["status"] == "fail" for report in reports),
        "mismatches_total": len(mismatches),
        "mismatches_by_type": {t: sum(m["mismatchType"] == t for m in mismatches) for t in MONEY_RAIL_MISMATCH_TYPES},
        "mismatches_by_severity": {s: sum(m["severity"] == s for m in mismatches) for s in MONEY_RAIL_SEVERITIES},
        "largest_mismatches": dg.MetadataValue.md(largest_mismatches_markdown(mismatches)),
    }  # fmt: skip


@dg.asset(
    key=["reports", "reconciliation_reports"],
    group_name="reconciliation",
    deps=MARTS,
    partitions_def=period_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    tags=stage_tags(Stage.report),
    kinds={"json"},
    description=(
        "One ReconcileReport.v1 per tenant, period and provider under artifacts/reconciliation/: inputs "
        "with digests, summary, tie-out, mismatches, checks and a report hash (same inputs, same bytes)."
    ),
)
def reconciliation_reports(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, artifacts: ArtifactsResource
) -> dg.MaterializeResult:
    as_of = run_as_of(context)
    periods = context.partition_keys
    with warehouse.connect(read_only=True) as db:
        run = write_reports(db.query, artifacts_dir=artifacts.directory, periods=periods, as_of=as_of,
                            grace_days=warehouse.grace_days, retention=artifacts.reconciliation_retention)  # fmt: skip
    for period in periods:
        context.add_asset_metadata(
            period_metadata([r for r in run.reports if r["period"] == period]), partition_key=period
        )
    context.log.info(
        f"{len(run.reports)} reports for {periods}: {len(run.written)} new, {len(run.removed)} pruned"
    )
    return dg.MaterializeResult(
        metadata={
            "as_of": as_of.isoformat() + "Z",
            "run_periods": ", ".join(periods),
            "run_artifacts_written": len(run.written),
            "run_artifacts_unchanged": len(run.unchanged),
            "run_artifacts_pruned": len(run.removed),
        }
    )
