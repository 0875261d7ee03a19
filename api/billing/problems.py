"""The problem code of the Stripe webhook (one class: api/core/errors.py)."""

from __future__ import annotations

from api.core.errors import Problem


class DeliveryRejected(Problem):
    status, code = 400, "WEBHOOK_REJECTED"
    title = "The delivery was recorded and refused; `reason` is its reason key."
    members = ("reason", "delivery_id")
