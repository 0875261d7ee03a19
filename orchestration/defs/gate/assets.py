"""The period gate as a period-partitioned asset: the daily run evaluates each tenant's gate for the
periods it reconciles (quality/gate.py), writes `PeriodGateVerdict.v1` under artifacts/gates/, and records
the verdicts in the operator API's database, where the close reads them. `settld gate` does the same for
one period on demand (with Data Docs)."""

import dagster as dg

from orchestration.partitions import period_partitions
from orchestration.resources import ArtifactsResource, OperatorApiResource, WarehouseResource
from orchestration.stages import Stage, stage_tags
from quality.gate import evaluate, gate_tenants, write_verdict


def _verdicts_markdown(verdicts: list[dict]) -> str:
    lines = ["| period | tenant | verdict | failing (blocking) |", "|---|---|---|---|"]
    for verdict in verdicts:
        failing = ", ".join(verdict["verdict"]["failingCheckIds"]) or "-"
        state = "ready to close" if verdict["verdict"]["ok"] else "RED"
        lines.append(f"| {verdict['period']} | {verdict['tenantId']} | {state} | {failing} |")
    return "\n".join(lines)


@dg.asset(
    key=["gates", "period_verdicts"],
    group_name="gate",
    deps=[
        dg.AssetKey(["reports", "reconciliation_reports"]),
        dg.AssetKey(["reports", "invoice_drafts"]),
        dg.AssetKey(["operator_api", "reconciliation_mismatches"]),
    ],
    partitions_def=period_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    tags=stage_tags(Stage.gate),
    kinds={"json"},
    description=(
        "PeriodGateVerdict.v1 per tenant and period under artifacts/gates/: great-expectations suites, dbt "
        "tests, landing deliveries, tie-out, serious mismatches handled, reports and invoice drafts present. "
        "Recorded in the operator API, so a green verdict lets the period close."
    ),
)
def period_gate_verdicts(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    artifacts: ArtifactsResource,
    operator_api: OperatorApiResource,
) -> dg.MaterializeResult:
    from api.periods.verdicts import record_verdicts, triage_reader

    triage = triage_reader(operator_api.database_url) if operator_api.enabled else None
    with warehouse.connect(read_only=True) as db:
        tenants = gate_tenants(db)
        verdicts = [
            evaluate(db, tenant_id=tenant, period=period, artifacts_dir=artifacts.directory, triage=triage)
            for period in context.partition_keys
            for tenant in tenants
        ]
    for verdict in verdicts:
        write_verdict(artifacts.directory, verdict)
    if operator_api.enabled:
        record_verdicts(operator_api.database_url, verdicts)
    ready = sum(verdict["verdict"]["ok"] for verdict in verdicts)
    context.log.info(f"{ready} of {len(verdicts)} tenant periods are ready to close")
    return dg.MaterializeResult(
        metadata={
            "verdicts": len(verdicts),
            "ready_to_close": ready,
            "recorded_in_operator_api": operator_api.enabled,
            "verdicts_by_tenant": dg.MetadataValue.md(_verdicts_markdown(verdicts)),
        }
    )
