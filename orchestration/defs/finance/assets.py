"""Per-period finance reports built from the finance marts: the GL against the party statements and the
escrow net close of every tenant (reports/finance.py)."""

import dagster as dg

from orchestration.partitions import period_partitions
from orchestration.resources import ArtifactsResource, WarehouseResource
from orchestration.stages import Stage, stage_tags
from reports.finance import write_finance_reports

MARTS = [
    dg.AssetKey(["marts", "fct_finance_reconciliation_mismatches"]),
    dg.AssetKey(["marts", "fct_escrow_net_close"]),
]


@dg.asset(
    key=["reports", "finance_reports"],
    group_name="finance",
    deps=MARTS,
    partitions_def=period_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    tags=stage_tags(Stage.report),
    kinds={"json"},
    description=(
        "FinanceReconciliationReport.v1 and EscrowNetCloseSnapshot.v1 per tenant and period under "
        "artifacts/finance/ (canonical JSON, hash in the name: the same marts give the same bytes)."
    ),
)
def finance_reports(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, artifacts: ArtifactsResource
) -> dg.MaterializeResult:
    with warehouse.connect(read_only=True) as db:
        written = write_finance_reports(
            db.query, artifacts_dir=artifacts.directory, periods=context.partition_keys
        )
    return dg.MaterializeResult(metadata={"files": len(written)})
