"""Full listings of the Stripe objects finance reads, through the official SDK (auto-paging, the SDK's
retries), into the operator API's object store (api.billing.objects).

Each list is read in full: objects change after they are created (an invoice is paid, a subscription is
cancelled), so a `created` cursor would miss updates. A listing is the state at the time of the listing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import stripe

from api.billing.objects import ObjectCounts, store_object
from api.core.migrate import database_at_head

# SDK resource and list parameters per object type, in listing order: a balance transaction finds its
# tenant through a charge already stored.
OBJECT_LISTS: dict[str, tuple[str, dict[str, str]]] = {
    "subscription": ("subscriptions", {"status": "all"}),
    "invoice": ("invoices", {}),
    "charge": ("charges", {}),
    "payment_intent": ("payment_intents", {}),  # failure reasons (last_payment_error) and money received
    "balance_transaction": ("balance_transactions", {}),
    "payout": ("payouts", {}),
}


def pull_objects(
    database_url: str, client: stripe.StripeClient, *, account: str = "default", now: datetime | None = None
) -> tuple[ObjectCounts, dict[str, int]]:
    """List every object type and store what is new or changed, in one transaction.
    Returns the store's counts and the number listed per type."""
    now = now or datetime.now(UTC)
    counts, listed = ObjectCounts(), {}
    with database_at_head(database_url) as database, database.transaction() as session:
        for object_type, (resource, params) in OBJECT_LISTS.items():
            listed[object_type] = 0
            for item in getattr(client.v1, resource).list(params={**params, "limit": 100}).auto_paging_iter():
                listed[object_type] += 1
                obj = {"object": object_type, **item.to_dict()}
                store_object(session, obj, state_at=int(now.timestamp()), state_source="pull", account=account,
                             now=now, counts=counts)  # fmt: skip
    return counts, listed
