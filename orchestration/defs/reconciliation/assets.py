"""Per-period reconciliation reports (ReconcileReport.v1 artifacts) built from the reconciliation marts."""

import dagster as dg

from orchestration.as_of import run_as_of
from orchestration.partitions import period_partitions
from orchestration.resources import ArtifactsResource, WarehouseResource
from orchestration.stages import Stage, stage_tags
from reports.reconciliation import MISMATCH_TYPES, write_reports
from settld.vocabulary import MONEY_RAIL_SEVERITIES

MARTS = [
    dg.AssetKey(["marts", "fct_reconciliation_mismatches"]),
    dg.AssetKey(["marts", "fct_reconciliation_summary"]),
    dg.AssetKey(["marts", "fct_reconciliation_tieout"]),
]
LARGEST_MISMATCHES = 10


def _largest_mismatches_markdown(reports: list[dict]) -> str:
    rows = [
        {**m, "tenantId": report["tenantId"], "period": report["period"], "providerId": report["providerId"]}
        for report in reports
        for m in report["mismatches"]
    ]
    rows.sort(key=lambda m: (-abs(m["amountDeltaCents"] or m["expectedAmountCents"] or m["actualAmountCents"] or 0),
                             m["triageKey"]))  # fmt: skip
    lines = [
        "| severity | type | tenant | period | provider | expected | actual | currency | key |",
        "|---|---|---|---|---|---:|---:|---|---|",
    ]
    for m in rows[:LARGEST_MISMATCHES]:
        lines.append(
            f"| {m['severity']} | {m['mismatchType']} | {m['tenantId']} | {m['period']} | {m['providerId']} | "
            f"{m['expectedAmountCents'] if m['expectedAmountCents'] is not None else ''} | "
            f"{m['actualAmountCents'] if m['actualAmountCents'] is not None else ''} | {m['currency']} | "
            f"`{m['mismatchKey'][-40:]}` |"
        )
    return "\n".join(lines) if rows else "No mismatches."


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
    mismatches = [m for report in run.reports for m in report["mismatches"]]
    by_type = {t: sum(m["mismatchType"] == t for m in mismatches) for t in MISMATCH_TYPES}
    by_severity = {s: sum(m["severity"] == s for m in mismatches) for s in MONEY_RAIL_SEVERITIES}
    context.log.info(
        f"{len(run.reports)} reports for {periods}: {len(run.written)} new, {len(run.removed)} pruned"
    )
    return dg.MaterializeResult(
        metadata={
            "periods": ", ".join(periods),
            "as_of": as_of.isoformat() + "Z",
            "reports": len(run.reports),
            "reports_failing": sum(report["status"] == "fail" for report in run.reports),
            "artifacts_written": len(run.written),
            "artifacts_unchanged": len(run.unchanged),
            "artifacts_pruned": len(run.removed),
            "mismatches_total": len(mismatches),
            "mismatches_by_type": by_type,
            "mismatches_by_severity": by_severity,
            "largest_mismatches": dg.MetadataValue.md(_largest_mismatches_markdown(run.reports)),
        }
    )
