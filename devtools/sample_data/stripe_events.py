"""Recorded Stripe Event objects for the billing of tenants (a few per tenant and period, built in Python).

Shapes follow the Stripe API (version 2024-06-20): `customer.created`, `customer.subscription.created`,
`customer.subscription.updated` (with `previous_attributes`, one tenant upgrades builder -> growth in the
middle period), `customer.subscription.deleted` (one tenant cancels at the end), per period and paying
tenant `invoice.created`, `invoice.finalized`, `charge.succeeded`, `invoice.paid`, and per period one
account-level `payout.paid`. Ids are derived from a hash of their meaning, so they are stable.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from settld.core import canonical_json

from .tenants import CANCEL_TENANT, DAY, HOUR, PLAN_PRICES, UPGRADE_TENANT, Tenant, period_epochs

API_VERSION = "2024-06-20"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PRODUCT_CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z: the plan catalog predates every generated period


def stripe_id(prefix: str, *meaning: Any, length: int = 24) -> str:
    digest = hashlib.sha256(canonical_json([prefix, *meaning]).encode()).digest()
    return prefix + "_" + "".join(_BASE62[b % 62] for b in digest[:length])


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
        "unit_amount": PLAN_PRICES[plan],
        "unit_amount_decimal": str(PLAN_PRICES[plan]),
    }


def legacy_plan(plan: str) -> dict[str, Any]:
    return {
        "id": f"price_{plan}_monthly",
        "object": "plan",
        "active": True,
        "amount": PLAN_PRICES[plan],
        "currency": "usd",
        "interval": "month",
        "interval_count": 1,
        "metadata": {"plan": plan},
        "nickname": f"{plan.title()} monthly",
        "product": f"prod_settld_{plan}",
        "usage_type": "licensed",
    }


class _Builder:
    def __init__(self, seed: int):
        self.seed = seed
        self.events: list[dict[str, Any]] = []

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
        customer: str,
        plan: str,
        created: int,
        start: int,
        end: int,
        status: str = "active",
        canceled_at: int | None = None,
    ) -> dict[str, Any]:
        sub_id = stripe_id("sub", self.seed, t.tenant_id)
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
            "customer": customer,
            "ended_at": canceled_at,
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": stripe_id("si", self.seed, t.tenant_id, plan, length=14),
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

    def billing(self, t: Tenant, customer: str, plan: str, period: str, at: int, reason: str) -> int:
        """invoice.created/finalized, charge.succeeded, invoice.paid; returns the charge amount."""
        start, end = period_epochs(period)
        amount = PLAN_PRICES[plan]
        invoice_id = stripe_id("in", self.seed, t.tenant_id, period)
        charge_id = stripe_id("ch", self.seed, t.tenant_id, period)
        finalized = at + (HOUR if reason == "subscription_cycle" else 1)
        paid = finalized + 45
        invoice = {
            "id": invoice_id,
            "object": "invoice",
            "account_country": "US",
            "amount_due": amount,
            "amount_paid": 0,
            "amount_remaining": amount,
            "attempt_count": 0,
            "attempted": False,
            "billing_reason": reason,
            "charge": None,
            "collection_method": "charge_automatically",
            "created": at,
            "currency": "usd",
            "customer": customer,
            "lines": {
                "object": "list",
                "data": [
                    {
                        "id": stripe_id("il", self.seed, t.tenant_id, period),
                        "object": "line_item",
                        "amount": amount,
                        "currency": "usd",
                        "description": f"1 x Settld {plan.title()} (at ${amount / 100:.2f} / month)",
                        "metadata": {},
                        "period": {"start": start, "end": end},
                        "price": price(plan),
                        "quantity": 1,
                        "type": "subscription",
                    }
                ],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/invoices/{invoice_id}/lines",
            },
            "livemode": False,
            "metadata": {"tenant_id": t.tenant_id},
            "number": f"{t.slug.upper()}-{period.replace('-', '')}",
            "paid": False,
            "period_end": end,
            "period_start": start,
            "status": "draft",
            "status_transitions": {"finalized_at": None, "paid_at": None},
            "subscription": stripe_id("sub", self.seed, t.tenant_id),
            "subtotal": amount,
            "total": amount,
        }
        self.event("invoice.created", at, invoice, api_request=False)
        finalized_invoice = invoice | {
            "status": "open",
            "status_transitions": {"finalized_at": finalized, "paid_at": None},
        }
        self.event("invoice.finalized", finalized, finalized_invoice, api_request=False)
        charge = {
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": 0,
            "balance_transaction": stripe_id("txn", self.seed, charge_id),
            "captured": True,
            "created": paid,
            "currency": "usd",
            "customer": customer,
            "description": "Subscription update" if reason != "subscription_cycle" else "Subscription cycle",
            "invoice": invoice_id,
            "livemode": False,
            "metadata": {"tenant_id": t.tenant_id},
            "paid": True,
            "payment_method": stripe_id("pm", self.seed, t.tenant_id),
            "refunded": False,
            "status": "succeeded",
            "outcome": {
                "network_status": "approved_by_network",
                "risk_level": "normal",
                "seller_message": "Payment complete.",
                "type": "authorized",
            },
        }
        self.event("charge.succeeded", paid, charge, api_request=False)
        paid_invoice = finalized_invoice | {
            "amount_paid": amount,
            "amount_remaining": 0,
            "attempt_count": 1,
            "attempted": True,
            "charge": charge_id,
            "paid": True,
            "status": "paid",
            "status_transitions": {"finalized_at": finalized, "paid_at": paid + 1},
        }
        self.event("invoice.paid", paid + 1, paid_invoice, api_request=False)
        return amount


def build_events(seed: int, tenants: list[Tenant], periods: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Events per period (by their `created`), each list sorted by (created, id)."""
    b = _Builder(seed)
    charged: dict[str, int] = dict.fromkeys(periods, 0)
    last = len(periods) - 1
    upgrade_period = len(periods) // 2 if len(periods) >= 2 else None
    for t in tenants:
        first_start, first_end = period_epochs(periods[0])
        signup = first_start + HOUR + (t.index * 37 % 600) * 60
        customer = stripe_id("cus", seed, t.tenant_id, length=14)
        b.event(
            "customer.created",
            signup,
            {
                "id": customer,
                "object": "customer",
                "created": signup,
                "currency": None,
                "delinquent": False,
                "description": f"Settld tenant {t.tenant_id}",
                "email": f"billing@{t.slug}.example.com",
                "livemode": False,
                "metadata": {"tenant_id": t.tenant_id},
                "name": t.slug.title(),
            },
            api_request=True,
        )
        plan = t.plan
        created = signup + 60
        b.event(
            "customer.subscription.created",
            created,
            b.subscription(t, customer, plan, created, first_start, first_end),
            api_request=True,
        )
        for k, period in enumerate(periods):
            start, end = period_epochs(period)
            if PLAN_PRICES[plan] > 0:
                at = created + 1 if k == 0 else start + 2 * HOUR + t.index * 60
                reason = "subscription_create" if k == 0 else "subscription_cycle"
                charged[period] += b.billing(t, customer, plan, period, at, reason)
            if t.index == UPGRADE_TENANT and k == upgrade_period and plan == "builder":
                at = start + 14 * DAY + 10 * HOUR
                old = b.subscription(t, customer, plan, created, start, end)
                new = b.subscription(t, customer, "growth", created, start, end)
                previous = {"items": old["items"], "metadata": {"plan": plan}, "plan": old["plan"]}
                b.event("customer.subscription.updated", at, new, api_request=True, previous=previous)
                plan = "growth"
            if t.index == CANCEL_TENANT and k == last:
                at = end - 2 * HOUR
                b.event(
                    "customer.subscription.deleted",
                    at,
                    b.subscription(t, customer, plan, created, start, end, status="canceled", canceled_at=at),
                    api_request=True,
                )
    for period in periods:
        start, _ = period_epochs(period)
        gross = charged[period]
        fees = 0 if gross == 0 else round(gross * 0.029) + 30
        at = start + 20 * DAY + 8 * HOUR
        payout_id = stripe_id("po", seed, period)
        b.event(
            "payout.paid",
            at,
            {
                "id": payout_id,
                "object": "payout",
                "amount": gross - fees,
                "arrival_date": at + 2 * DAY,
                "automatic": True,
                "balance_transaction": stripe_id("txn", seed, payout_id),
                "created": at - DAY,
                "currency": "usd",
                "description": "STRIPE PAYOUT",
                "destination": stripe_id("ba", seed, "bank"),
                "livemode": False,
                "metadata": {},
                "method": "standard",
                "source_type": "card",
                "statement_descriptor": None,
                "status": "paid",
                "type": "bank_account",
            },
            api_request=False,
        )
    by_period: dict[str, list[dict[str, Any]]] = {p: [] for p in periods}
    bounds = {p: period_epochs(p) for p in periods}
    for event in b.events:
        for p, (start, end) in bounds.items():
            if start <= event["created"] < end:
                by_period[p].append(event)
                break
    for events in by_period.values():
        events.sort(key=lambda e: (e["created"], e["id"]))
    return by_period


def event_line(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)
