"""The onboarding funnel in the UI, and the step only the warehouse witnesses written back to the API.

All run in the publish stage of the daily run, after the dbt build: `onboarding/funnel` reads the
funnel marts and shows the cohort table and the conversion-by-step chart; `operator_api/
onboarding_first_settlements` records each tenant's first settlement in the API (once per tenant), where
the tenant's checklist shows it; `operator_api/onboarding_cohorts` publishes the cohorts platform ops read
at `GET /ops/onboarding/cohorts`.
"""

import dagster as dg

from api.onboarding.publish import publish_cohorts, publish_first_settlements
from api.onboarding.steps import FUNNEL_STEPS
from orchestration.as_of import published_at
from orchestration.defs.onboarding.charts import cohort_table_markdown, conversion_svg, image_markdown
from orchestration.resources import OperatorApiResource, WarehouseResource
from orchestration.stages import Stage, stage_tags

FUNNEL_MART = dg.AssetKey(["marts", "fct_onboarding_funnel"])
COHORTS_MART = dg.AssetKey(["marts", "fct_onboarding_cohorts"])
STEPS = [step.event_type for step in FUNNEL_STEPS]


@dg.asset(
    key=["onboarding", "funnel"],
    group_name="onboarding",
    deps=[FUNNEL_MART, COHORTS_MART],
    tags=stage_tags(Stage.publish),
    kinds={"duckdb", "postgres"},
    description=(
        "The onboarding funnel by signup cohort for ops: tenants, reach and conversion per step, median and "
        "p90 time to the first settlement (marts.fct_onboarding_cohorts), and a conversion-by-step chart."
    ),
)
def onboarding_funnel(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect(read_only=True) as db:
        tenants = db.query("select furthest_step, next_step from marts.fct_onboarding_funnel")
        cohorts = db.query(
            "select * from marts.fct_onboarding_cohorts order by cohort_grain, cohort, step_order"
        )
    waiting = {step: sum(1 for t in tenants if t["next_step"] == step) for step in STEPS}
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(tenants),
            "tenants": len(tenants),
            "tenants_finished": sum(1 for t in tenants if t["next_step"] is None),
            "tenants_by_next_step": waiting,
            "cohorts": dg.MetadataValue.md(cohort_table_markdown(cohorts, STEPS)),
            "conversion_by_step": dg.MetadataValue.md(
                image_markdown(conversion_svg(cohorts, STEPS), "Conversion by step, by signup month")
            ),
        }
    )


@dg.asset(
    key=["operator_api", "onboarding_first_settlements"],
    group_name="onboarding",
    deps=[FUNNEL_MART],
    tags=stage_tags(Stage.publish),
    kinds={"sqlalchemy"},
    description=(
        "Each tenant's first resolved settlement (marts.fct_onboarding_funnel) recorded in the operator API as "
        "the onboarding step first_settlement_completed, once per tenant: the checklist shows it."
    ),
)
def onboarding_first_settlements(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, operator_api: OperatorApiResource
) -> dg.MaterializeResult:
    with warehouse.connect(read_only=True) as db:
        rows = db.query(
            "select tenant_id, first_settlement_completed_at from marts.fct_onboarding_funnel "
            "where first_settlement_completed_at is not null order by tenant_id"
        )
    result = publish_first_settlements(operator_api.database_url, rows, published_at=published_at(context))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "recorded": result.recorded,
            "unchanged": result.unchanged,
            "unknown_tenants": result.unknown_tenants,
        }
    )


@dg.asset(
    key=["operator_api", "onboarding_cohorts"],
    group_name="onboarding",
    deps=[COHORTS_MART],
    tags=stage_tags(Stage.publish),
    kinds={"sqlalchemy"},
    description=(
        "marts.fct_onboarding_cohorts published into the operator API's database (GET /ops/onboarding/cohorts, "
        "platform keys only): changed rows rewritten, cohorts gone from the mart removed."
    ),
)
def onboarding_cohorts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, operator_api: OperatorApiResource
) -> dg.MaterializeResult:
    with warehouse.connect(read_only=True) as db:
        rows = db.query(
            "select * from marts.fct_onboarding_cohorts order by cohort_grain, cohort, step_order"
        )
    result = publish_cohorts(operator_api.database_url, rows, published_at=published_at(context))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "removed": result.removed,
        }
    )
