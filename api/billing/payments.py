"""What finance reads from invoices and payments beyond their own amount (api/billing/objects.py stores it):

- an invoice's **service period**: the period of its subscription lines (`lines.data[].period` of lines of
  type `subscription`, or whose `parent.type` is `subscription_item_details` since the 2025 API versions;
  non-proration lines first), else, for a one-off invoice, its finalisation date
  (`status_transitions.finalized_at`, else `created`). Stripe's own `period_start`/`period_end` of a
  renewal are the PREVIOUS period (the window its pending items were collected in), so they never say
  which month an invoice bills;
- **money received**, apart from the attempted or billed amount (`amount_cents`): a charge's
  `amount_captured` when it succeeded (0 when it failed), a payment intent's `amount_received`, an
  invoice's or invoice payment's `amount_paid`; a failed attempt is never money received;
- a payment's **failure facts**: a charge's `failure_code`, `outcome.{type, reason, network_status}` and
  decline code (`outcome.network_decline_code`); a payment intent's `last_payment_error.{code,
  decline_code}` (and its charge's outcome when expanded); an invoice's or invoice payment's attempt count.
"""

from __future__ import annotations

from typing import Any

from api.billing.fields import integer, reference_id, text

PAYMENT_TYPES = ("charge", "payment_intent", "invoice_payment")


def _is_subscription_line(line: dict[str, Any]) -> bool:
    parent = line.get("parent")
    return line.get("type") == "subscription" or (
        isinstance(parent, dict) and parent.get("type") == "subscription_item_details"
    )


def _is_proration(line: dict[str, Any]) -> bool:
    parent = line.get("parent")
    details = parent.get("subscription_item_details") if isinstance(parent, dict) else None
    return bool(line.get("proration")) or (isinstance(details, dict) and bool(details.get("proration")))


def service_period(invoice: dict[str, Any]) -> tuple[int | None, int | None]:
    """(start, end) of the period an invoice bills, epoch seconds (module docstring)."""
    lines = invoice.get("lines")
    data = lines.get("data") if isinstance(lines, dict) else None
    subscription_lines = [
        line for line in (data if isinstance(data, list) else []) if isinstance(line, dict) and _is_subscription_line(line)
    ]  # fmt: skip
    chosen = [line for line in subscription_lines if not _is_proration(line)] or subscription_lines
    periods = [
        (integer(line["period"].get("start")), integer(line["period"].get("end")))
        for line in chosen
        if isinstance(line.get("period"), dict)
    ]
    starts = [start for start, _ in periods if start is not None]
    if starts:
        ends = [end for _, end in periods if end is not None]
        return min(starts), max(ends) if ends else None
    transitions = invoice.get("status_transitions")
    finalized = integer(transitions.get("finalized_at")) if isinstance(transitions, dict) else None
    at = finalized if finalized is not None else integer(invoice.get("created"))
    return at, at


def amount_received(object_type: str, obj: dict[str, Any]) -> int | None:
    if object_type == "charge":
        if obj.get("status") != "succeeded":
            return 0
        captured = integer(obj.get("amount_captured"))
        if captured is None and obj.get("captured") is True:  # versions without amount_captured
            captured = integer(obj.get("amount"))
        return captured or 0
    if object_type == "payment_intent":
        return integer(obj.get("amount_received")) or 0
    if object_type in ("invoice", "invoice_payment"):
        return integer(obj.get("amount_paid")) or 0
    return None


def _short(value: Any) -> str | None:
    value = text(value)
    return value[:64] if value else None


def failure_facts(object_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    """failure_code, decline_code, outcome_type, outcome_reason, network_status, attempt_count, related_id."""
    facts: dict[str, Any] = dict.fromkeys(
        ("failure_code", "decline_code", "outcome_type", "outcome_reason", "network_status", "attempt_count",
         "related_id"),
    )  # fmt: skip
    outcome = obj.get("outcome")
    if object_type == "payment_intent":
        error = obj.get("last_payment_error")
        if isinstance(error, dict):
            facts["failure_code"], facts["decline_code"] = (
                _short(error.get("code")),
                _short(error.get("decline_code")),
            )
            charge = (
                error.get("charge") if isinstance(error.get("charge"), dict) else obj.get("latest_charge")
            )
            outcome = charge.get("outcome") if isinstance(charge, dict) else None
        facts["related_id"] = reference_id(obj.get("invoice"))
    elif object_type == "charge":
        facts["failure_code"] = _short(obj.get("failure_code"))
        if isinstance(outcome, dict):
            facts["decline_code"] = _short(outcome.get("network_decline_code")) or _short(
                outcome.get("reason")
            )
        facts["related_id"] = reference_id(obj.get("invoice")) or reference_id(obj.get("payment_intent"))
    elif object_type in ("invoice", "invoice_payment"):
        facts["attempt_count"] = integer(obj.get("attempt_count"))
        facts["related_id"] = reference_id(obj.get("invoice")) if object_type == "invoice_payment" else None
    if isinstance(outcome, dict):
        facts["outcome_type"] = _short(outcome.get("type"))
        facts["outcome_reason"] = _short(outcome.get("reason"))
        facts["network_status"] = _short(outcome.get("network_status"))
    return facts
