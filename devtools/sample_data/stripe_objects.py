"""Stripe objects as the Stripe API (version 2024-06-20) shapes them: ids, prices, subscriptions, and the
builder that wraps objects in Event envelopes. Ids are derived from a hash of their meaning, so they are
stable; prices come from the plan catalog seed (drafts.plan_price)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from settld.core import canonical_json

from .drafts import plan_price
from .tenants import Tenant

API_VERSION = "2024-06-20"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PRODUCT_CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z: the plan catalog predates every generated period


def stripe_id(prefix: str, *meaning: Any, length: int = 24) -> str:
    digest = hashlib.sha256(canonical_json([prefix, *meaning]).encode()).digest()
    return prefix + "_" + "".join(_BASE62[b % 62] for b in digest[:length])


def customer_id(seed: int, tenant: Tenant) -> str:
    return stripe_id("cus", seed, tenant.tenant_id, length=14)


def subscription_id(seed: int, tenant: Tenant) -> str:
    return stripe_id("sub", seed, tenant.tenant_id)


def subscription_item_id(seed: int, tenant: Tenant, plan: str) -> str:
    return stripe_id("si", seed, tenant.tenant_id, plan, length=14)


def price(plan: str) -> dict[str, Any]:
    return {
        "id": f"price_{plan}_monthly",
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": PRODUCT_CREATED,
        "currency": "usd",
        "livemode": False,
        "lookup_key": f"{plan}_monthly",
        "metadata": {"plan": plan},
        "nickname": f"{plan.title()} monthly",
        "product": f"prod_settld_{plan}",
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
        "type": "recurring",
        "unit_amount": plan_price(plan),
        "unit_amount_decimal": str(plan_price(plan)),
    }


def legacy_plan(plan: str) -> dict[str, Any]:
    return {
        "id": f"price_{plan}_monthly",
        "object": "plan",
        "active": True,
        "amount": plan_price(plan),
        "currency": "usd",
        "interval": "month",
        "interval_count": 1,
        "metadata": {"plan": plan},
        "nickname": f"{plan.title()} monthly",
        "product": f"prod_settld_{plan}",
        "usage_type": "licensed",
    }


@dataclass
class Upgrade:
    tenant: Tenant
    period: str
    at: int
    old_plan: str
    new_plan: str


@dataclass
class Builder:
    seed: int
    events: list[dict[str, Any]] = field(default_factory=list)
    upgrades: list[Upgrade] = field(default_factory=list)
    ended: dict[str, int] = field(default_factory=dict)  # tenant id -> when its subscription was deleted

    def event(
        self,
        kind: str,
        created: int,
        obj: dict[str, Any],
        *,
        api_request: bool,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"object": obj}
        if previous is not None:
            data["previous_attributes"] = previous
        request_id = stripe_id("req", self.seed, kind, obj["id"], created, length=14) if api_request else None
        event = {
            "id": stripe_id("evt", self.seed, kind, obj["id"], created),
            "object": "event",
            "api_version": API_VERSION,
            "created": created,
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": request_id, "idempotency_key": None},
            "type": kind,
        }
        self.events.append(event)
        return event

    def subscription(
        self,
        t: Tenant,
        plan: str,
        created: int,
        start: int,
        end: int,
        status: str = "active",
        canceled_at: int | None = None,
    ) -> dict[str, Any]:
        sub_id = subscription_id(self.seed, t)
        return {
            "id": sub_id,
            "object": "subscription",
            "billing_cycle_anchor": start,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": canceled_at,
            "collection_method": "charge_automatically",
            "created": created,
            "currency": "usd",
            "current_period_end": end,
            "current_period_start": start,
            "customer": customer_id(self.seed, t),
            "ended_at": canceled_at,
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": subscription_item_id(self.seed, t, plan),
                        "object": "subscription_item",
                        "created": created,
                        "metadata": {},
                        "plan": legacy_plan(plan),
                        "price": price(plan),
                        "quantity": 1,
                        "subscription": sub_id,
                    }
                ],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/subscription_items?subscription={sub_id}",
            },
            "livemode": False,
            "metadata": {"tenant_id": t.tenant_id, "plan": plan},
            "plan": legacy_plan(plan),
            "quantity": 1,
            "start_date": created,
            "status": status,
        }
