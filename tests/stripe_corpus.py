"""Webhook events built from Stripe's published example objects (tests/fixtures/stripe_openapi, at a 2026
API version and at 2020-08-27): the objects are Stripe's; what this module sets is named at each event
(ids, customers, metadata, statuses, amounts and dates, so that they tell one tenant's October 2026)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "stripe_openapi"
RECENT_VERSION = "2026-10-28.endive"  # the installed SDK's pin; the objects are of the 2025+ shapes
TENANT, OLD_TENANT = "tnt_corpus", "tnt_corpus_old"


def epoch(day: int, hour: int = 0, month: int = 10) -> int:
    return int(datetime(2026, month, day, hour, tzinfo=UTC).timestamp())


def resource(version: str, name: str) -> dict:
    return copy.deepcopy(json.loads((FIXTURES / f"{version}.json").read_text())["resources"][name])


def _event(number: int, kind: str, obj: dict, created: int, api_version: str) -> dict:
    return {"id": f"evt_corpus_{number:02d}", "object": "event", "api_version": api_version, "created": created,
            "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": kind}  # fmt: skip


def _with_lookup_key(subscription: dict, lookup_key: str, customer: str) -> dict:
    subscription.update(id=f"sub_{customer}", customer=customer, metadata={}, status="active")
    for item in subscription["items"]["data"]:
        item["price"]["lookup_key"] = lookup_key  # set here: the published price has none
        item["price"]["metadata"] = {}
    return subscription


def recent_events() -> list[dict]:
    v = "recent"
    customer = resource(v, "customer") | {"id": "cus_corpusA", "metadata": {}}  # before its tenant link
    linked = customer | {"metadata": {"tenant_id": TENANT}}
    subscription = _with_lookup_key(resource(v, "subscription"), "growth_monthly", "cus_corpusA")
    invoice = resource(v, "invoice")
    line = resource(v, "line_item") | {"id": "il_corpusA", "amount": 60_000, "invoice": "in_corpusA_oct",
                                       "period": {"start": epoch(1), "end": epoch(1, month=11)}}  # fmt: skip
    line["parent"] = {"type": "subscription_item_details", "invoice_item_details": None,
                      "subscription_item_details": {"invoice_item": None, "proration": False,
                                                    "proration_details": {"credited_items": None},
                                                    "subscription": "sub_cus_corpusA",
                                                    "subscription_item": "si_corpusA"}}  # fmt: skip
    # An October renewal as Stripe makes it: period_start/period_end the PREVIOUS period (September).
    invoice.update(id="in_corpusA_oct", customer="cus_corpusA", status="paid", billing_reason="subscription_cycle",
                   period_start=epoch(1, month=9), period_end=epoch(1), total=60_000, subtotal=60_000,
                   amount_due=60_000, amount_paid=60_000, amount_remaining=0, currency="usd", metadata={},
                   created=epoch(1, 1), attempt_count=1,
                   status_transitions={"finalized_at": epoch(1, 2), "marked_uncollectible_at": None,
                                       "paid_at": epoch(1, 3), "voided_at": None},
                   parent={"type": "subscription_details", "quote_details": None,
                           "subscription_details": {"metadata": {}, "subscription": "sub_cus_corpusA"}},
                   lines={"object": "list", "data": [line], "has_more": False, "total_count": 1,
                          "url": "/v1/invoices/in_corpusA_oct/lines"})  # fmt: skip
    payment = resource(v, "invoice_payment") | {
        "id": "inpay_corpusA", "invoice": "in_corpusA_oct", "status": "paid", "amount_paid": 60_000,
        "amount_requested": 60_000, "currency": "usd", "created": epoch(1, 3),
        "payment": {"type": "payment_intent", "payment_intent": "pi_corpusA_ok"},
    }  # fmt: skip
    declined = resource(v, "charge") | {
        "id": "ch_corpusA_nsf", "customer": "cus_corpusA", "status": "failed", "paid": False, "captured": False,
        "amount": 60_000, "amount_captured": 0, "currency": "usd", "created": epoch(1, 2), "metadata": {},
        "failure_code": "card_declined", "failure_message": "Your card has insufficient funds.",
    }  # fmt: skip
    declined["outcome"] |= {"type": "issuer_declined", "reason": "insufficient_funds",
                            "network_status": "declined_by_network"}  # fmt: skip
    intent = resource(v, "payment_intent") | {
        "id": "pi_corpusA_3ds", "customer": "cus_corpusA", "amount": 60_000, "currency": "usd",
        "status": "requires_payment_method", "created": epoch(2),
        "last_payment_error": {"type": "card_error", "code": "authentication_required",
                               "decline_code": "authentication_required"},
    }  # fmt: skip
    anonymous = resource(v, "charge") | {"id": "ch_corpus_anonymous", "created": epoch(3)}  # no customer
    payout = resource(v, "payout") | {"id": "po_corpus_recent", "created": epoch(20)}
    balance = resource(v, "balance")
    r = RECENT_VERSION
    return [
        _event(1, "customer.created", customer, epoch(1), r),
        _event(2, "customer.updated", linked, epoch(1, 1), r),
        _event(3, "customer.subscription.created", subscription, epoch(1, 1) + 60, r),
        _event(4, "invoice.paid", invoice, epoch(1, 3), r),
        _event(5, "invoice_payment.paid", payment, epoch(1, 3) + 5, r),
        _event(6, "charge.failed", declined, epoch(1, 2), r),
        _event(7, "payment_intent.payment_failed", intent, epoch(2), r),
        _event(8, "charge.succeeded", anonymous, epoch(3), r),
        _event(9, "payout.paid", payout, epoch(20), r),
        _event(10, "balance.available", balance, epoch(20, 1), r),
    ]


def old_events() -> list[dict]:
    v = "2020-08-27"
    customer = resource(v, "customer") | {"id": "cus_corpusB", "metadata": {"tenant_id": OLD_TENANT}}
    subscription = _with_lookup_key(resource(v, "subscription"), "builder", "cus_corpusB")
    expired = resource(v, "charge") | {
        "id": "ch_corpusB_expired", "customer": "cus_corpusB", "status": "failed", "paid": False,
        "captured": False, "amount": 9_900, "currency": "usd", "created": epoch(5), "metadata": {},
        "failure_code": "expired_card", "failure_message": "Your card has expired.",
        "outcome": {"network_status": "declined_by_network", "reason": None, "risk_level": "normal",
                    "seller_message": "The bank returned the decline code `expired_card`.", "type": "issuer_declined"},
    }  # fmt: skip
    payout = resource(v, "payout") | {"id": "po_corpus_2020", "created": epoch(20, 2)}
    return [
        _event(11, "customer.created", customer, epoch(4), v),
        _event(12, "customer.subscription.created", subscription, epoch(4, 1), v),
        _event(13, "charge.failed", expired, epoch(5), v),
        _event(14, "payout.paid", payout, epoch(20, 2), v),
    ]


def notification() -> dict:
    """A v2 event notification (thin event) about the recent customer."""
    return {"id": "evt_corpus_v2", "object": "v2.core.event", "type": "v1.customer.updated",
            "created": "2026-10-06T09:30:00.000Z", "livemode": False, "context": None,
            "related_object": {"id": "cus_corpusA", "type": "customer", "url": "/v1/customers/cus_corpusA"}}  # fmt: skip
