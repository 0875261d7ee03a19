"""Stripe billing data: the incremental pull of Stripe events into the operator API's event store.

Webhooks push events as they happen; this asset lists them from Stripe (the official SDK, from the
account's cursor) so an event a webhook never delivered still arrives. dbt then reads the event store
(`stg_operator_api__stripe_events`) for plans and gaps.
"""

import os

import dagster as dg

from orchestration.resources import OperatorApiResource


class StripeResource(dg.ConfigurableResource):
    """Stripe API access: `STRIPE_API_KEY` (read access to events) and, for the emulator, a base URL."""

    api_key: str = ""
    api_base: str = ""
    account: str = "default"

    def client(self):
        import stripe

        base = {"api": self.api_base} if self.api_base else None
        return stripe.StripeClient(self.api_key, base_addresses=base, max_network_retries=3)


def stripe_resource() -> StripeResource:
    return StripeResource(
        api_key=os.environ.get("STRIPE_API_KEY", ""),
        api_base=os.environ.get("SETTLD_STRIPE_API_BASE", ""),
        account=os.environ.get("SETTLD_STRIPE_ACCOUNT", "default"),
    )


@dg.asset(
    key=["operator_api", "stripe_events"],
    group_name="billing",
    kinds={"stripe", "sqlalchemy"},
    description=(
        "Stripe events listed through the SDK since the account's cursor and stored once per event id in "
        "the operator API's event store, beside the webhook's deliveries."
    ),
)
def stripe_events_pull(
    context: dg.AssetExecutionContext, stripe: StripeResource, operator_api: OperatorApiResource
) -> dg.MaterializeResult:
    from api.core.migrate import migrate_database
    from ingestion.stripe_pull import pull_events

    if not operator_api.enabled or not stripe.api_key:
        missing = "SETTLD_API_DATABASE_URL" if not operator_api.enabled else "STRIPE_API_KEY"
        context.log.info(f"{missing} is not set: nothing to pull")
        return dg.MaterializeResult(metadata={"pulled": False, "missing_setting": missing})
    migrate_database(operator_api.database_url)
    summary = pull_events(operator_api.database_url, stripe.client(), account=stripe.account)
    context.log.info(f"Stripe pull: {summary.as_metadata()}")
    return dg.MaterializeResult(metadata={"pulled": True, **summary.as_metadata()})
