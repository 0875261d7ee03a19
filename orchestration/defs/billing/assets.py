"""Stripe billing data in the operator API's stores: events (one table whatever brought them) and objects.

Webhooks push events as they happen; landing files bring exported events; the pull lists events from
Stripe (the official SDK, from the account's cursor) so an event a webhook never delivered still arrives,
and lists the objects finance reads. dbt then reads both stores (`stg_operator_api__stripe_events`,
`stg_operator_api__stripe_objects`) for plans, gaps and invoices.
"""

import dagster as dg

from orchestration.resources import OperatorApiResource, StripeResource, WarehouseResource
from orchestration.stages import Stage, stage_tags


@dg.asset(
    key=["operator_api", "stripe_events"],
    group_name="billing",
    deps=[dg.AssetKey(["raw", "stripe_events"])],
    tags=stage_tags(Stage.billing),
    kinds={"stripe", "sqlalchemy"},
    description=(
        "The operator API's Stripe event store, one row per event id, where every path meets: webhook "
        "deliveries, events landed as files (raw.stripe_events) and events listed through the SDK since the "
        "account's cursor."
    ),
)
def stripe_events_pull(
    context: dg.AssetExecutionContext,
    stripe: StripeResource,
    operator_api: OperatorApiResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    from api.billing.landed import LANDED_EVENTS_SQL, import_landed_events
    from api.billing.pull import pull_events
    from api.core.migrate import assert_schema_at_head

    assert_schema_at_head(operator_api.database_url)  # API_SCHEMA_OUTDATED: run `settld api migrate`
    with warehouse.connect(read_only=True) as db:
        landed = import_landed_events(operator_api.database_url, db.query(LANDED_EVENTS_SQL))
    context.log.info(f"landed Stripe events: {landed.as_metadata()}")
    metadata: dict = {"stored": True, "landed": landed.as_metadata()}
    if stripe.api_key:
        summary = pull_events(operator_api.database_url, stripe.client(), account=stripe.account)
        context.log.info(f"Stripe pull: {summary.as_metadata()}")
        metadata["pulled"] = summary.as_metadata()
    else:
        context.log.info("STRIPE_API_KEY is not set: nothing to pull from Stripe")
        metadata["pulled"] = "STRIPE_API_KEY is not set"
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=["operator_api", "stripe_objects"],
    group_name="billing",
    # After the events: the customer-to-tenant mapping they teach resolves objects without metadata.
    deps=[dg.AssetKey(["operator_api", "stripe_events"])],
    tags=stage_tags(Stage.billing),
    kinds={"stripe", "sqlalchemy"},
    description=(
        "The latest known state of the Stripe subscriptions, invoices, charges, payment intents, invoice "
        "payments, balance transactions and payouts: the objects events carry, and full listings through the SDK."
    ),
)
def stripe_objects_pull(
    context: dg.AssetExecutionContext, stripe: StripeResource, operator_api: OperatorApiResource
) -> dg.MaterializeResult:
    from api.billing.listings import pull_objects
    from api.core.migrate import assert_schema_at_head

    if not stripe.api_key:
        context.log.info("STRIPE_API_KEY is not set: only the objects carried by stored events are known")
        return dg.MaterializeResult(metadata={"pulled": False, "missing_setting": "STRIPE_API_KEY"})
    assert_schema_at_head(operator_api.database_url)  # API_SCHEMA_OUTDATED: run `settld api migrate`
    counts, listed = pull_objects(operator_api.database_url, stripe.client(), account=stripe.account)
    context.log.info(f"Stripe objects listed: {listed}; stored: {counts.as_metadata()}")
    return dg.MaterializeResult(metadata={"pulled": True, "listed": listed, **counts.as_metadata()})
