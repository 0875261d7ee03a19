"""Small factories for API tests: tenants, keys and published mismatches, through the service functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe

from api.core.database import Database
from api.reconciliation.publish import PublishResult, publish_mismatches
from api.tenants.service import create_key, ensure_tenant, revoke_key
from reports.reconciliation import triage_key as reconciliation_triage_key
from settld.vocabulary import MISMATCH_TYPES, SEVERITY_RANK

T0 = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)


def triage_key(tenant_id: str, period: str, provider_id: str, mismatch_type: str, mismatch_key: str) -> str:
    return reconciliation_triage_key(
        source_type="money_rails_reconcile", tenant_id=tenant_id, period=period, provider_id=provider_id,
        mismatch_type=mismatch_type, mismatch_key=mismatch_key,
    )  # fmt: skip


def mismatch_row(
    tenant_id: str,
    mismatch_key: str,
    *,
    mismatch_type: str = "amount_mismatch",
    period: str = "2026-09",
    provider_id: str = "stripe_connect",
    **overrides: Any,
) -> dict[str, Any]:
    severity, code = MISMATCH_TYPES[mismatch_type].severity, MISMATCH_TYPES[mismatch_type].mismatch_code
    rank = SEVERITY_RANK[severity]
    row = {
        "triage_key": triage_key(tenant_id, period, provider_id, mismatch_type, mismatch_key),
        "tenant_id": tenant_id,
        "period": period,
        "provider_id": provider_id,
        "mismatch_type": mismatch_type,
        "mismatch_key": mismatch_key,
        "source_type": "money_rails_reconcile",
        "mismatch_code": code,
        "severity": severity,
        "severity_rank": rank,
        "party_id": f"party_{mismatch_key}",
        "operation_id": f"mop_{mismatch_key}",
        "operation_state": "confirmed",
        "operation_count": 1,
        "expected_amount_cents": 10_000,
        "actual_amount_cents": 9_500,
        "amount_delta_cents": -500,
        "currency": "USD",
        "actual_currency": "USD",
        "as_of": "2026-10-01 06:00:00",
    }
    row.update(overrides)
    return row


@dataclass
class Factory:
    database_url: str

    def tenant(self, tenant_id: str) -> str:
        database = Database(self.database_url)
        try:
            with database.transaction() as session:
                ensure_tenant(session, tenant_id=tenant_id)
        finally:
            database.dispose()
        return tenant_id

    def key(self, tenant_id: str, *scopes: str) -> str:
        """A bearer token for the tenant (created if missing) with `scopes`."""
        self.tenant(tenant_id)
        database = Database(self.database_url)
        try:
            with database.transaction() as session:
                return create_key(session, tenant_id=tenant_id, scopes=scopes or ("finance_read",)).token
        finally:
            database.dispose()

    def revoke(self, token: str) -> None:
        database = Database(self.database_url)
        try:
            with database.transaction() as session:
                revoke_key(session, key_id=token.removeprefix("sk_").split(".")[0])
        finally:
            database.dispose()

    def publish(self, rows: list[dict[str, Any]], *, at: datetime = T0) -> PublishResult:
        return publish_mismatches(self.database_url, rows, published_at=at)


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


# Stripe webhook deliveries: events shaped like Stripe's, signed as Stripe signs them.
SECRET = "whsec_test_settld_0123456789"
URL = "/v1/webhooks/stripe"


def event(
    event_id: str = "evt_1", event_type: str = "customer.subscription.updated", **object_fields
) -> dict:
    obj = {"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active",
           "metadata": {"tenant_id": "acme", "plan": "growth"}, **object_fields}  # fmt: skip
    return {"id": event_id, "object": "event", "type": event_type, "created": 1_790_000_000, "livemode": False,
            "data": {"object": obj}}  # fmt: skip


def signed(body: str, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)
    return {"Stripe-Signature": header, "Content-Type": "application/json"}
