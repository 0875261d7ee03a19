"""Per-period invoice drafts (BillingInvoiceDraft.v1 artifacts) built from the billing marts."""

import dagster as dg

from orchestration.partitions import period_partitions
from orchestration.resources import ArtifactsResource, WarehouseResource
from orchestration.stages import Stage, stage_tags
from reports.invoices import write_drafts
from settld.money import major_units

MARTS = [
    dg.AssetKey(["marts", "fct_invoice_drafts"]),
    dg.AssetKey(["marts", "fct_invoice_draft_lines"]),
]


def invoices_markdown(drafts: list[dict]) -> str:
    """What each tenant is invoiced for the period: one row per tenant and currency (never summed across
    currencies), in major units."""
    if not drafts:
        return "No invoice drafts."
    lines = ["| tenant | currency | plan | lines | subtotal | draft hash |", "|---|---|---|---:|---:|---|"]
    for d in sorted(drafts, key=lambda d: (d["tenantId"], d["currency"])):
        lines.append(
            f"| {d['tenantId']} | {d['currency']} | {d['plan']} | {len(d['lineItems'])} | "
            f"{major_units(d['subtotalCents'], d['currency'])} | `{d['draftHash'][:16]}` |"
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
    for period in periods:
        drafts = [d for d in run.drafts if d["period"] == period]
        subtotals: dict[str, dict[str, int]] = {}
        for draft in drafts:
            subtotals.setdefault(draft["tenantId"], {})[draft["currency"]] = draft["subtotalCents"]
        context.add_asset_metadata(
            {"drafts": len(drafts), "subtotal_cents_by_tenant_and_currency": subtotals,
             "invoices": dg.MetadataValue.md(invoices_markdown(drafts))},
            partition_key=period,
        )  # fmt: skip
    context.log.info(
        f"{len(run.drafts)} drafts for {periods}: {len(run.written)} new, {len(run.adjustments)} adjustments"
    )
    return dg.MaterializeResult(
        metadata={
            "run_periods": ", ".join(periods),
            "run_artifacts_written": len(run.written),
            "run_artifacts_unchanged": len(run.unchanged),
            "run_adjustments_written": len(run.adjustments),
        }
    )
