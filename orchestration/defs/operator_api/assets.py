"""Publishes the reconciliation mismatches into the operator API's database, where operators triage them.

The API never reads the warehouse file (DuckDB allows one writer, and a pipeline may be writing it);
it reads this published copy. Upsert by triage_key; a mismatch that no longer appears is marked cleared.
"""

from datetime import UTC

import dagster as dg

from api.reconciliation.publish import publish_mismatches
from orchestration.as_of import run_as_of
from orchestration.resources import OperatorApiResource, WarehouseResource
from orchestration.stages import Stage, stage_tags

MISMATCHES_MART = dg.AssetKey(["marts", "fct_reconciliation_mismatches"])


@dg.asset(
    key=["operator_api", "reconciliation_mismatches"],
    group_name="operator_api",
    deps=[MISMATCHES_MART, dg.AssetKey(["marts", "fct_billing_invoice_mismatches"])],
    tags=stage_tags(Stage.publish),
    kinds={"sqlalchemy"},
    description=(
        "marts.fct_reconciliation_mismatches published into the operator API's database (upsert by "
        "triage_key; mismatches that disappeared are marked cleared, never deleted)."
    ),
)
def published_reconciliation_mismatches(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, operator_api: OperatorApiResource
) -> dg.MaterializeResult:
    if not operator_api.enabled:
        context.log.info("SETTLD_API_DATABASE_URL is not set: nothing to publish")
        return dg.MaterializeResult(metadata={"published": False})
    with warehouse.connect(read_only=True) as db:
        # Money-rail and billing mismatches share one queue: same columns, triage and gate.
        rows = db.query(
            "select * from marts.fct_reconciliation_mismatches union all "
            "select * from marts.fct_billing_invoice_mismatches order by triage_key"
        )
    for row in rows:
        del row["as_of"]  # the run's, not the mismatch's
    published_at = run_as_of(context).replace(tzinfo=UTC)  # the API stores aware UTC instants
    result = publish_mismatches(operator_api.database_url, rows, published_at=published_at)
    return dg.MaterializeResult(
        metadata={
            "published": True,
            "dagster/row_count": len(rows),
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "cleared": result.cleared,
            "reappeared": result.reappeared,
        }
    )
