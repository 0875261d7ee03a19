"""Stripe invoices of the generated tenants: Settld computes each month's invoice drafts and bills them
through Stripe, so every draft with a line (drafts.py) is one Stripe invoice with one line item per draft
line: Stripe's total for a tenant, service month and currency is the draft's subtotal. The plan-currency
invoice of a tenant whose subscription is active at the month's start is its subscription's invoice for
the month, made as Stripe makes renewals: created in the first hours of the month it bills
(`subscription_cycle`; the first month's as the subscription is created, `subscription_create`), with
Stripe's `period_start`/`period_end` the PREVIOUS period and every line's `period` the month billed (the
service period, docs/DECISIONLOG.md "Stripe semantics"). Any other is a one-off invoice of invoice items
(`manual`), finalised in the last hours of the month it bills. A positive total is paid by a charge; a zero
invoice is marked paid when finalized, as Stripe does.

Disagreements injected on purpose, each a row of injected.csv (`invoice_total_mismatch`, provider
`stripe`, key the currency, as marts.fct_billing_invoice_mismatches reports them):
- the upgrade tenant's upgrade month: Stripe prorated the mid-month upgrade on an invoice of its own
  (`subscription_update`), while drafts bill whole months, so Stripe's total is the draft's plus the
  proration;
- the first tenant's last period: a one-off invoice created by hand in Stripe in a currency Settld
  computed no draft in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from settld.vocabulary import VOCABULARY

from .drafts import CATALOG, Line, Usage, draft_lines, month_plan, plan_price, subscription_states
from .stripe_objects import (
    Builder,
    Upgrade,
    customer_id,
    price,
    stripe_id,
    subscription_id,
    subscription_item_id,
)
from .tenants import CURRENCIES, DAY, HOUR, Tenant, period_epochs


def months_before(period: str) -> str:
    year, month = map(int, period.split("-"))
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


BILLING_SOURCE = "billing_invoice_compare"
INVOICE_MISMATCH_TYPES = VOCABULARY.mismatch_types_of(BILLING_SOURCE)  # ("invoice_total_mismatch",)
(TOTAL_MISMATCH,) = INVOICE_MISMATCH_TYPES
BILL_DELAY = 3 * HOUR  # a renewal is invoiced in the first hours of the month it bills
MANUAL_AMOUNT = 45_000  # the hand-made invoice, in minor units of its currency
Charge = tuple[int, str, int]  # (created, currency, amount)


@dataclass(frozen=True)
class Invoice:
    tenant: Tenant
    invoice_id: str
    currency: str
    created: int
    reason: str  # billing_reason
    period: tuple[int, int]  # period_start, period_end
    number: str


def line_item(
    b: Builder,
    invoice: Invoice,
    line: Line,
    period: tuple[int, int],
    *,
    plan: str | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Stripe line item: the subscription's own line when `plan` is given, else an invoice item."""
    own = plan is not None
    t = invoice.tenant
    key = (invoice.invoice_id, line.code, line.description)
    return {
        "id": stripe_id("il", b.seed, *key),
        "object": "line_item",
        "amount": line.amount,
        "currency": invoice.currency.lower(),
        "description": line.description,
        "invoice_item": None if own else stripe_id("ii", b.seed, *key),
        "livemode": False,
        "metadata": {"line_code": line.code} if metadata is None else metadata,
        "period": {"start": period[0], "end": period[1]},
        "price": price(plan) if own else None,
        "proration": line.code == "PRORATION",
        "quantity": 1 if line.code == "SETTLED_VOLUME_FEE" else line.quantity,
        "subscription": subscription_id(b.seed, t) if own else None,
        "subscription_item": subscription_item_id(b.seed, t, plan) if own else None,
        "type": "subscription" if own else "invoiceitem",
    }


def issue(b: Builder, invoice: Invoice, lines: list[dict[str, Any]]) -> Charge | None:
    """invoice.created, invoice.finalized, charge.succeeded (a positive total) and invoice.paid."""
    t, currency = invoice.tenant, invoice.currency.lower()
    total = sum(line["amount"] for line in lines)
    draft = {
        "id": invoice.invoice_id,
        "object": "invoice",
        "account_country": "US",
        "amount_due": total,
        "amount_paid": 0,
        "amount_remaining": total,
        "attempt_count": 0,
        "attempted": False,
        "billing_reason": invoice.reason,
        "charge": None,
        "collection_method": "charge_automatically",
        "created": invoice.created,
        "currency": currency,
        "customer": customer_id(b.seed, t),
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": False,
            "total_count": len(lines),
            "url": f"/v1/invoices/{invoice.invoice_id}/lines",
        },
        "livemode": False,
        "metadata": {"tenant_id": t.tenant_id},
        "number": invoice.number,
        "paid": False,
        "period_end": invoice.period[1],
        "period_start": invoice.period[0],
        "status": "draft",
        "status_transitions": {"finalized_at": None, "paid_at": None},
        "subscription": subscription_id(b.seed, t) if invoice.reason.startswith("subscription_") else None,
        "subtotal": total,
        "total": total,
    }
    b.event("invoice.created", invoice.created, draft, api_request=False)
    finalized = invoice.created + (HOUR if invoice.reason == "subscription_cycle" else 1)
    opened = draft | {"status": "open", "status_transitions": {"finalized_at": finalized, "paid_at": None}}
    b.event("invoice.finalized", finalized, opened, api_request=False)
    paid = opened | {"amount_paid": total, "amount_remaining": 0, "paid": True, "status": "paid"}
    if total <= 0:  # nothing to collect: Stripe marks the invoice paid as it is finalized
        paid["status_transitions"] = {"finalized_at": finalized, "paid_at": finalized + 1}
        b.event("invoice.paid", finalized + 1, paid, api_request=False)
        return None
    charged = finalized + 45
    charge_id = stripe_id("ch", b.seed, invoice.invoice_id)
    charge = {
        "id": charge_id,
        "object": "charge",
        "amount": total,
        "amount_captured": total,
        "amount_refunded": 0,
        "balance_transaction": stripe_id("txn", b.seed, charge_id),
        "captured": True,
        "created": charged,
        "currency": currency,
        "customer": customer_id(b.seed, t),
        "description": f"Invoice {invoice.number}",
        "invoice": invoice.invoice_id,
        "livemode": False,
        "metadata": {"tenant_id": t.tenant_id},
        "paid": True,
        "payment_method": stripe_id("pm", b.seed, t.tenant_id),
        "refunded": False,
        "status": "succeeded",
        "outcome": {
            "network_status": "approved_by_network",
            "risk_level": "normal",
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
    }
    b.event("charge.succeeded", charged, charge, api_request=False)
    paid |= {"attempt_count": 1, "attempted": True, "charge": charge_id}
    paid["status_transitions"] = {"finalized_at": finalized, "paid_at": charged + 1}
    b.event("invoice.paid", charged + 1, paid, api_request=False)
    return charged, invoice.currency, total


def bill_drafts(
    b: Builder, tenants: list[Tenant], months: list[str], usage: dict[tuple[str, str], Usage]
) -> list[Charge]:
    """One Stripe invoice per draft with a line, per tenant and month; returns the charges."""
    states = subscription_states(b.events)
    charges = []
    for t in tenants:
        subscribed_at = states[t.tenant_id][0][0] if states.get(t.tenant_id) else None
        for index, month in enumerate(months):
            start, end = period_epochs(month)
            plan = month_plan(t.tenant_id, states.get(t.tenant_id, []), month)
            drafts = draft_lines(plan, usage.get((t.tenant_id, month), Usage()), t.currency)
            for k, currency in enumerate(sorted(drafts, key=lambda c: (c != plan.currency, c))):
                lines = drafts[currency]
                # The subscription bills its month in advance: the renewal at the month's start (the first
                # month's invoice as the subscription is created), as Stripe does.
                first = index == 0 and subscribed_at is not None
                renewal_at = (
                    subscribed_at + 60 if first else start + BILL_DELAY + (t.index % 600) * 60
                ) + k * 300
                active = b.ended.get(t.tenant_id, renewal_at + 1) > renewal_at
                cycle = active and currency == plan.currency and lines[0].code == "SUBSCRIPTION_BASE"
                if cycle:
                    created = renewal_at
                    reason = "subscription_create" if first else "subscription_cycle"
                    # Stripe's period_start/period_end of a renewal are the PREVIOUS period (a first
                    # invoice's: its creation); the subscription line carries the month it bills
                    period = (created, created) if first else (period_epochs(months_before(month))[0], start)
                else:  # a one-off invoice, finalised within the month it bills
                    created = end - 6 * HOUR + (t.index % 60) * 60 + k * 300
                    reason, period = "manual", (created, created)
                # the tenant's invoice of the month (the id it always had); another currency's is its own
                suffix = "" if currency == plan.currency else f"-{currency}"
                invoice = Invoice(
                    tenant=t,
                    invoice_id=stripe_id("in", b.seed, t.tenant_id, month, *([currency] if suffix else [])),
                    currency=currency,
                    created=created,
                    reason=reason,
                    period=period,
                    number=f"{t.slug.upper()}-{month.replace('-', '')}{suffix}",
                )
                subscribed = plan.name if cycle else None
                items = [
                    line_item(b, invoice, line, (start, end), plan=subscribed if i == 0 else None)
                    for i, line in enumerate(lines)
                ]
                charges.append(issue(b, invoice, items))
    return [charge for charge in charges if charge]


def _row(t: Tenant, period: str, currency: str, note: str) -> dict[str, str]:
    return {
        "tenant_id": t.tenant_id,
        "period": period,
        "provider_id": "stripe",
        "mismatch_type": TOTAL_MISMATCH,
        "mismatch_key": currency,
        "note": note,
    }


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def prorate_upgrade(b: Builder, u: Upgrade) -> tuple[Charge | None, dict[str, str]]:
    """Stripe invoices the proration of a mid-month upgrade at once (billing_reason subscription_update)."""
    start, end = period_epochs(u.period)
    remaining, span = end - u.at, end - start
    currency = CATALOG[u.new_plan]["currency"]
    invoice = Invoice(
        tenant=u.tenant,
        invoice_id=stripe_id("in", b.seed, u.tenant.tenant_id, u.period, "proration"),
        currency=currency,
        created=u.at,
        reason="subscription_update",
        period=(u.at, u.at),
        number=f"{u.tenant.slug.upper()}-{u.period.replace('-', '')}-P",
    )
    day = f"{u.period}-{(u.at - start) // DAY + 1:02d}"
    old = -_half_up(plan_price(u.old_plan) * remaining, span)
    new = _half_up(plan_price(u.new_plan) * remaining, span)
    lines = [
        Line("PRORATION", 1, old, f"Unused time on Settld {u.old_plan.title()} after {day}"),
        Line("PRORATION", 1, new, f"Remaining time on Settld {u.new_plan.title()} after {day}"),
    ]
    charge = issue(b, invoice, [line_item(b, invoice, line, (u.at, end), metadata={}) for line in lines])
    note = (
        f"Stripe prorated the mid-month upgrade {u.old_plan} -> {u.new_plan} on invoice {invoice.invoice_id} "
        f"(subscription_update, {old + new:+} cents); the draft bills whole months"
    )
    return charge, _row(u.tenant, u.period, currency, note)


def manual_invoice(b: Builder, t: Tenant, period: str, currency: str) -> tuple[Charge | None, dict[str, str]]:
    """A one-off invoice created by hand in Stripe, for nothing Settld billed."""
    start, _ = period_epochs(period)
    created = start + 9 * DAY + 15 * HOUR
    invoice = Invoice(
        tenant=t,
        invoice_id=stripe_id("in", b.seed, t.tenant_id, period, currency, "manual"),
        currency=currency,
        created=created,
        reason="manual",
        period=(created, created),
        number=f"{t.slug.upper()}-{period.replace('-', '')}-M",
    )
    line = Line("MANUAL", 1, MANUAL_AMOUNT, "Settld onboarding workshop (2 days, on site)")
    charge = issue(b, invoice, [line_item(b, invoice, line, (created, created), metadata={})])
    note = (
        f"invoice {invoice.invoice_id} created by hand in Stripe ({MANUAL_AMOUNT} cents); Settld computed "
        f"no {currency} draft for the month"
    )
    return charge, _row(t, period, currency, note)


def inject_disagreements(
    b: Builder, tenants: list[Tenant], periods: list[str]
) -> tuple[list[Charge], list[dict[str, str]]]:
    """The invoices that disagree with the drafts on purpose: their charges and injected.csv rows."""
    results = [prorate_upgrade(b, u) for u in b.upgrades]
    for t in tenants:
        if t.index == 0:
            # a currency with no draft: neither a plan's (catalog) nor the tenant's settlements'
            taken = {t.currency} | {row["currency"] for row in CATALOG.values()}
            currency = next(c for c in CURRENCIES if c not in taken)
            results.append(manual_invoice(b, t, periods[-1], currency))
    charges = [charge for charge, _ in results if charge]
    rows = sorted((row for _, row in results), key=lambda r: (r["period"], r["tenant_id"], r["mismatch_key"]))
    return charges, rows
