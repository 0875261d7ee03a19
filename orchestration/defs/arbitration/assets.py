"""Publishes the settlements disputes and arbitration cases are checked against into the operator API's
database (marts.fct_settlements: the kernel's amounts, the dispute window, the policy reference)."""

import dagster as dg

from api.arbitration.publish import publish_settlements
from orchestration.as_of import published_at
from orchestration.resources import OperatorApiResource, WarehouseResource
from orchestration.stages import Stage, stage_tags

SETTLEMENTS_MART = dg.AssetKey(["marts", "fct_settlements"])
PUBLISHED_COLUMNS = (
    "tenant_id, settlement_id, run_id, payer_agent_id, payee_agent_id, status, policy_id, policy_version, "
    "policy_hash, amount_cents, released_amount_cents, refunded_amount_cents, currency, resolved_at, "
    "dispute_window_ends_at"
)


@dg.asset(
    key=["operator_api", "settlements"],
    group_name="operator_api",
    deps=[SETTLEMENTS_MART],
    tags=stage_tags(Stage.publish),
    kinds={"sqlalchemy"},
    description=(
        "marts.fct_settlements published into the operator API's database (upsert by tenant and settlement "
        "id; never deleted): what POST /ops/settlements/{id}/disputes and the arbitration cases check "
        "status, dispute window and amounts against."
    ),
)
def published_settlements(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, operator_api: OperatorApiResource
) -> dg.MaterializeResult:
    with warehouse.connect(read_only=True) as db:
        # The kernel's amounts, not the adjusted ones: an adjustment is the API's own row.
        rows = db.query(
            f"select {PUBLISHED_COLUMNS} from marts.fct_settlements order by tenant_id, settlement_id"
        )
    result = publish_settlements(operator_api.database_url, rows, published_at=published_at(context))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }
    )
