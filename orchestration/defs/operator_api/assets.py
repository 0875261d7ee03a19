"""Publishes what the operator API needs from the warehouse into its database: the reconciliation
mismatches operators triage, the invoice drafts they read (and the period close finalises), and the billable
usage the live billing summary and the hard limits start from.

The API never reads the warehouse file (DuckDB allows one writer, and a pipeline may be writing it);
it reads these published copies, written through the API's own publish functions.
"""

import dagster as dg

from api.billing.usage import publish_usage
from api.invoices.publish import publish_invoices
from api.reconciliation.publish import publish_mismatches
from orchestration.as_of import published_at
from orchestration.resources import OperatorApiResource, WarehouseResource
from orchestration.stages import Stage, stage_tags
from settld.vocabulary import MISMATCH_MARTS

MISMATCHES_MART = dg.AssetKey(["marts", "fct_reconciliation_mismatches"])
INVOICE_MISMATCHES_MART = dg.AssetKey(["marts", "fct_billing_invoice_mismatches"])
AGREEMENT_MISMATCHES_MART = dg.AssetKey(["marts", "fct_marketplace_agreement_mismatches"])
FINANCE_MISMATCHES_MART = dg.AssetKey(["marts", "fct_finance_reconciliation_mismatches"])
DRAFTS_MART = dg.AssetKey(["marts", "fct_invoice_drafts"])
DRAFT_LINES_MART = dg.AssetKey(["marts", "fct_invoice_draft_lines"])


@dg.asset(
    key=["operator_api", "reconciliation_mismatches"],
    group_name="operator_api",
    deps=[MISMATCHES_MART, INVOICE_MISMATCHES_MART, AGREEMENT_MISMATCHES_MART, FINANCE_MISMATCHES_MART],
    tags=stage_tags(Stage.publish),
    kinds={"sqlalchemy"},
    description=(
        "marts.fct_reconciliation_mismatches (with the billing and finance findings) published into the "
        "operator API's database (upsert by "
        "triage_key; mismatches that disappeared are marked cleared, never deleted; one that appears for a "
        "closed period is marked found after the close)."
    ),
)
def published_reconciliation_mismatches(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, operator_api: OperatorApiResource
) -> dg.MaterializeResult:
    with warehouse.connect(read_only=True) as db:
        # Money-rail, billing, marketplace and finance (GL, escrow) findings share one queue: same columns, triage and gate.
        union = " union all ".join(f"select * from marts.{mart}" for mart in MISMATCH_MARTS)
        rows = db.query(f"{union} order by triage_key")
    for row in rows:
        del row["as_of"]  # the run's, not the mismatch's
    result = publish_mismatches(operator_api.database_url, rows, published_at=published_at(context))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "cleared": result.cleared,
            "reappeared": result.reappeared,
            "found_after_close": result.found_after_close,
        }
    )


@dg.asset(
    key=["operator_api", "invoices"],
    group_name="operator_api",
    deps=[DRAFTS_MART, DRAFT_LINES_MART],
    tags=stage_tags(Stage.publish),
    kinds={"sqlalchemy"},
    description=(
        "marts.fct_invoice_drafts and fct_invoice_draft_lines published into the operator API's database "
        "(GET /ops/finance/invoices): drafts upserted by tenant, period and currency; a finalised invoice is "
        "never rewritten, later usage of its month becomes an adjustment in the next open month."
    ),
)
def published_invoices(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, operator_api: OperatorApiResource
) -> dg.MaterializeResult:
    with warehouse.connect(read_only=True) as db:
        drafts = db.query("select * from marts.fct_invoice_drafts order by tenant_id, period, currency")
        lines = db.query(
            "select * from marts.fct_invoice_draft_lines order by tenant_id, period, currency, line_code"
        )
    result = publish_invoices(operator_api.database_url, drafts, lines, published_at=published_at(context))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(drafts),
            "lines": len(lines),
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "removed": result.removed,
            "finalized_kept": result.finalized_kept,
            "adjustments_changed": result.adjustments_changed,
        }
    )


USAGE_MART = dg.AssetKey(["marts", "fct_billing_usage"])


@dg.asset(
    key=["operator_api", "billing_usage"],
    group_name="operator_api",
    deps=[USAGE_MART],
    tags=stage_tags(Stage.publish),
    kinds={"sqlalchemy"},
    description=(
        "marts.fct_billing_usage published into the operator API's database as its last warehouse figures "
        "(replaced whole, stamped with the run's as-of): the live usage summary and the hard limits count "
        "what the API witnessed after that instant on top (GET /ops/finance/billing/summary)."
    ),
)
def published_billing_usage(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, operator_api: OperatorApiResource
) -> dg.MaterializeResult:
    with warehouse.connect(read_only=True) as db:
        rows = db.query(
            "select * from marts.fct_billing_usage order by tenant_id, period, usage_type, currency"
        )
    published = publish_usage(operator_api.database_url, rows, as_of=published_at(context))
    return dg.MaterializeResult(metadata={"dagster/row_count": published})
