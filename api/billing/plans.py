"""Which plan a Stripe subscription is on: derived from its current prices, mapped through the one plan
catalog (seed billing_plan_catalog, `settld.vocabulary.BILLING_PLANS`).

For each item of the subscription (all of them, not the first), the item's price names a plan by, in
order: its `lookup_key`, its `metadata` (`plan` and the spellings below), its product's `metadata` when
the product is expanded; the legacy `plan` object of the item likewise. A name maps to a catalog plan
when it is one, or when one of its tokens (split on `_ - . :` and spaces) is one: `growth_monthly` and
`settld-growth-2026` are growth. When items name several plans, the highest tier in the catalog's order
wins. Only when no item names one does the subscription's own metadata count: after a plan change in
the customer portal Stripe changes the price, not the metadata, so stale metadata never beats the
current price. A metadata name outside the catalog is kept as written (the billing build then fails on
it, loudly); a lookup key outside the catalog names nothing.
"""

from __future__ import annotations

import re
from typing import Any

from settld.vocabulary import BILLING_PLANS

PLAN_METADATA_KEYS = ("nooterraPlan", "nooterra_plan", "plan", "planId", "plan_id")
_TOKENS = re.compile(r"[\s_.:\-]+")


def catalog_plan(name: Any) -> str | None:
    """The catalog plan a name denotes, else None."""
    if not isinstance(name, str) or not name.strip():
        return None
    lowered = name.strip().lower()
    if lowered in BILLING_PLANS:
        return lowered
    return next((token for token in _TOKENS.split(lowered) if token in BILLING_PLANS), None)


def _metadata_plan(value: Any) -> str | None:
    metadata = value.get("metadata") if isinstance(value, dict) else None
    if isinstance(metadata, dict):
        for key in PLAN_METADATA_KEYS:
            named = metadata.get(key)
            if isinstance(named, str) and named.strip():
                return catalog_plan(named) or named.strip().lower()[:64]
    return None


def price_plan(price: Any) -> str | None:
    """The plan a price (or a legacy plan object) names: lookup_key, its metadata, its product's."""
    if not isinstance(price, dict):
        return None
    return (
        catalog_plan(price.get("lookup_key")) or _metadata_plan(price) or _metadata_plan(price.get("product"))
    )


def _tier(plan: str) -> int:
    return BILLING_PLANS.index(plan) if plan in BILLING_PLANS else -1  # a catalog plan beats any other name


def subscription_plan(subscription: dict[str, Any]) -> str | None:
    items = subscription.get("items")
    data = items.get("data") if isinstance(items, dict) else None
    named = [
        price_plan(item.get("price")) or price_plan(item.get("plan"))
        for item in (data if isinstance(data, list) else [])
        if isinstance(item, dict)
    ]
    named = [plan for plan in named if plan]
    if named:
        return max(named, key=_tier)
    return _metadata_plan(subscription)


def subscription_facts(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """(status, plan) of a subscription event, else (None, None); the status of a
    `customer.subscription.deleted` event is `canceled`."""
    obj = event["data"]["object"]
    if not event["type"].startswith("customer.subscription."):
        return None, None
    status = "canceled" if event["type"] == "customer.subscription.deleted" else obj.get("status")
    status = status.lower()[:64] if isinstance(status, str) and status else None
    return status, subscription_plan(obj)
