"""A subscription's plan comes from its current prices (all items), mapped through the one plan catalog;
stale subscription metadata never beats the current price. Subscriptions are Stripe's published example
(tests/fixtures/stripe_openapi) with prices and metadata set here, as each case says."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from api.billing.plans import catalog_plan, subscription_facts, subscription_plan

FIXTURES = Path(__file__).parents[1] / "fixtures" / "stripe_openapi"


def published_subscription(version: str = "recent") -> dict:
    return copy.deepcopy(json.loads((FIXTURES / f"{version}.json").read_text())["resources"]["subscription"])


def with_prices(subscription: dict, *prices: dict) -> dict:
    template = subscription["items"]["data"][0]
    subscription["items"]["data"] = [
        {**copy.deepcopy(template), "price": {**copy.deepcopy(template["price"]), **price}}
        for price in prices
    ]
    return subscription


@pytest.mark.parametrize("version", ["recent", "2020-08-27"])
def test_a_subscription_with_only_a_price_lookup_key_gets_its_plan(version: str) -> None:
    subscription = with_prices(published_subscription(version), {"lookup_key": "growth_monthly"})
    assert subscription["metadata"] == {}  # as published: no plan in metadata
    assert subscription_plan(subscription) == "growth"
    event = {"type": "customer.subscription.updated", "data": {"object": subscription}}
    assert subscription_facts(event) == (subscription["status"], "growth")


def test_the_current_price_beats_stale_subscription_metadata() -> None:
    # Upgraded in the customer portal: Stripe changed the price, the subscription metadata still says builder.
    subscription = with_prices(published_subscription(), {"lookup_key": "settld-growth-2026"})
    subscription["metadata"] = {"plan": "builder"}
    assert subscription_plan(subscription) == "growth"


def test_every_item_counts_and_the_highest_tier_wins() -> None:
    subscription = with_prices(
        published_subscription(),
        {"lookup_key": "seats_addon"},  # names no plan
        {"lookup_key": None, "metadata": {"plan": "builder"}},
        {"lookup_key": None, "product": {"id": "prod_1", "metadata": {"plan": "Growth"}}},
    )
    assert subscription_plan(subscription) == "growth"


def test_metadata_counts_only_when_no_price_names_a_plan() -> None:
    subscription = with_prices(published_subscription(), {"lookup_key": None})
    assert subscription_plan(subscription) is None  # the published example names none: not guessed
    subscription["metadata"] = {"nooterraPlan": "Builder"}
    assert subscription_plan(subscription) == "builder"


def test_names_map_through_the_catalog() -> None:
    assert [catalog_plan(n) for n in ("growth", "GROWTH_annual", "settld:builder", "pro", "", None)] == [
        "growth", "growth", "builder", None, None, None,
    ]  # fmt: skip
