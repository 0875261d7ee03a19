"""Per-period invoice drafts (BillingInvoiceDraft.v1 artifacts) built from the billing marts."""

import dagster as dg

from orchestration.partitions import period_partitions
from orchestration.resources import ArtifactsResource, WarehouseResource
from orchestration.stages import Stage, stage_tags
from reports.invoices import write_drafts

MARTS = [
    dg.AssetKey(["marts", "fct_invoice_drafts"]),
    dg.AssetKey(["marts", "fct_invoice_draft_lines"]),
]


def _totals_markdown(drafts: list[dict]) -> str:
    if not drafts:
        return "No invoice drafts."
    lines = [
        "| tenant | period | currency | plan | lines | subtotal (minor units) |",
        "|---|---|---|---|---:|---:|",
    ]
    for d in sorted(drafts, key=lambda d: (d["tenantId"], d["period"], d["currency"])):
        lines.append(
            f"| {d['tenantId']} | {d['period']} | {d['currency']} | {d['plan']} | {len(d['lineItems'])} | "
            f"{d['subtotalCents']} |"
        )
    return "\n".join(lines)


@dg.asset(
    key=["reports", "invoice_drafts"],
    group_name="invoices",
    deps=MARTS,
    partitions_def=period_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    tags=stage_tags(Stage.report),
    kinds={"json"},
    description=(
        "One BillingInvoiceDraft.v1 per tenant, period and currency under artifacts/invoices/ (same usage, "
        "same bytes); for an invoice already finalized by a period close whose usage changed, a "
        "BillingInvoiceAdjustment.v1 into the next open period instead."
    ),
)
def invoice_drafts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, artifacts: ArtifactsResource
) -> dg.MaterializeResult:
    periods = context.partition_keys
    with warehouse.connect(read_only=True) as db:
        run = write_drafts(db.query, artifacts_dir=artifacts.directory, periods=periods)
    totals: dict[str, dict[str, int]] = {}
    for draft in run.drafts:  # never summed across currencies
        per_currency = totals.setdefault(f"{draft['tenantId']} {draft['period']}", {})
        per_currency[draft["currency"]] = per_currency.get(draft["currency"], 0) + draft["subtotalCents"]
    context.log.info(
        f"{len(run.drafts)} drafts for {periods}: {len(run.written)} new, {len(run.adjustments)} adjustments"
    )
    return dg.MaterializeResult(
        metadata={
            "periods": ", ".join(periods),
            "drafts": len(run.drafts),
            "artifacts_written": len(run.written),
            "artifacts_unchanged": len(run.unchanged),
            "adjustments_written": len(run.adjustments),
            "subtotal_cents_by_tenant_period_and_currency": totals,
            "invoice_totals": dg.MetadataValue.md(_totals_markdown(run.drafts)),
        }
    )
