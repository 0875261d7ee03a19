"""Recorded Stripe Event objects for the billing of tenants, built in Python (shapes: stripe_objects.py).

Per tenant `customer.created` and `customer.subscription.created` in the first period; one tenant upgrades
builder -> growth in the middle period (`customer.subscription.updated`, with `previous_attributes`), one
cancels at the end (`customer.subscription.deleted`). Each month's invoice drafts are billed as Stripe
bills a subscription, in advance: the renewal in the first hours of the month it bills, a one-off invoice
in its last hours (`invoice.created`, `invoice.finalized`, `charge.succeeded`, `invoice.paid`;
stripe_invoices.py, with the disagreements injected on purpose), and on the 20th of each month one
account-level `payout.paid` per currency pays out the charges collected since the last payout. Events are
grouped by the month of their `created`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from settld.core import next_period, period_of

from .drafts import Usage
from .stripe_invoices import Charge, bill_drafts, inject_disagreements
from .stripe_objects import Builder, Upgrade, customer_id, stripe_id
from .tenants import CANCEL_TENANT, DAY, HOUR, UPGRADE_TENANT, Tenant, period_epochs


def months_between(first: str, last: str) -> list[str]:
    months = [first]
    while months[-1] < last:
        months.append(next_period(months[-1]))
    return months


def subscribe(b: Builder, t: Tenant, periods: list[str]) -> None:
    """The tenant's customer and subscription events: created, upgraded or cancelled."""
    last = len(periods) - 1
    upgrade_period = len(periods) // 2 if len(periods) >= 2 else None
    first_start, first_end = period_epochs(periods[0])
    signup = first_start + HOUR + (t.index * 37 % 600) * 60
    customer = {
        "id": customer_id(b.seed, t),
        "object": "customer",
        "created": signup,
        "currency": None,
        "delinquent": False,
        "description": f"Settld tenant {t.tenant_id}",
        "email": f"billing@{t.slug}.example.com",
        "livemode": False,
        "metadata": {"tenant_id": t.tenant_id},
        "name": t.slug.title(),
    }
    b.event("customer.created", signup, customer, api_request=True)
    plan = t.plan
    created = signup + 60
    subscription = b.subscription(t, plan, created, first_start, first_end)
    b.event("customer.subscription.created", created, subscription, api_request=True)
    for k, period in enumerate(periods):
        start, end = period_epochs(period)
        if t.index == UPGRADE_TENANT and k == upgrade_period and plan == "builder":
            at = start + 14 * DAY + 10 * HOUR
            old = b.subscription(t, plan, created, start, end)
            new = b.subscription(t, "growth", created, start, end)
            previous = {"items": old["items"], "metadata": {"plan": plan}, "plan": old["plan"]}
            b.event("customer.subscription.updated", at, new, api_request=True, previous=previous)
            b.upgrades.append(Upgrade(t, period, at, plan, "growth"))
            plan = "growth"
        if t.index == CANCEL_TENANT and k == last:
            at = end - 2 * HOUR
            cancelled = b.subscription(t, plan, created, start, end, status="canceled", canceled_at=at)
            b.event("customer.subscription.deleted", at, cancelled, api_request=True)
            b.ended[t.tenant_id] = at


def pay_out(b: Builder, months: list[str], charges: list[Charge]) -> None:
    """On the 20th of each month, one payout per currency of the charges collected since the last one."""
    pending = sorted(charges)
    for month in months:
        start, _ = period_epochs(month)
        at = start + 20 * DAY + 8 * HOUR
        due = [c for c in pending if c[0] < at]
        pending = [c for c in pending if c[0] >= at]
        gross: dict[str, int] = defaultdict(int)
        for _, currency, amount in due:
            gross[currency] += amount
        for currency, amount in sorted(gross.items()):
            fees = round(amount * 0.029) + 30
            payout_id = stripe_id("po", b.seed, month, currency)
            payout = {
                "id": payout_id,
                "object": "payout",
                "amount": amount - fees,
                "arrival_date": at + 2 * DAY,
                "automatic": True,
                "balance_transaction": stripe_id("txn", b.seed, payout_id),
                "created": at - DAY,
                "currency": currency.lower(),
                "description": "STRIPE PAYOUT",
                "destination": stripe_id("ba", b.seed, "bank", currency),
                "livemode": False,
                "metadata": {},
                "method": "standard",
                "source_type": "card",
                "statement_descriptor": None,
                "status": "paid",
                "type": "bank_account",
            }
            b.event("payout.paid", at, payout, api_request=False)


def build_events(
    seed: int, tenants: list[Tenant], periods: list[str], usage: dict[tuple[str, str], Usage]
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, str]]]:
    """Events per month of their `created` (each list sorted by (created, id)), and the injected.csv rows
    of the invoices that disagree with their drafts on purpose."""
    b = Builder(seed)
    for t in tenants:
        subscribe(b, t, periods)
    months = months_between(periods[0], periods[-1])
    charges = bill_drafts(b, tenants, months, usage)
    injected_charges, injected = inject_disagreements(b, tenants, periods)
    pay_out(b, months, charges + injected_charges)
    by_month: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in b.events:
        by_month[period_of(datetime.fromtimestamp(event["created"], UTC))].append(event)
    for events in by_month.values():
        events.sort(key=lambda e: (e["created"], e["id"]))
    return dict(sorted(by_month.items())), injected


def event_line(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)
