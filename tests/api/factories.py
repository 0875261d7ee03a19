"""Small factories for API tests: tenants, keys, published mismatches and invoice drafts, gate verdicts,
through the service functions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import stripe
from sqlalchemy.orm import Session

from api.core.database import Database, utc_now
from api.invoices.publish import InvoicePublishResult, draft_documents, publish_invoices
from api.periods.service import record_verdict
from api.reconciliation.publish import PublishResult, publish_mismatches
from api.tenants.service import create_key, ensure_tenant, revoke_key
from reports.artifacts import write_artifact
from reports.invoices import draft_file_name, invoices_dir
from reports.reconciliation import triage_key as reconciliation_triage_key
from settld.core import iso_micro, period_bounds
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

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        database = Database(self.database_url)
        try:
            with database.transaction() as session:
                yield session
        finally:
            database.dispose()

    def tenant(self, tenant_id: str) -> str:
        with self.transaction() as session:
            ensure_tenant(session, tenant_id=tenant_id)
        return tenant_id

    def key(self, tenant_id: str, *scopes: str) -> str:
        """A bearer token for the tenant (created if missing) with `scopes`."""
        self.tenant(tenant_id)
        with self.transaction() as session:
            return create_key(session, tenant_id=tenant_id, scopes=scopes or ("finance_read",)).token

    def platform_key(self, *scopes: str) -> str:
        from api.tenants.keys import create_platform_key

        with self.transaction() as session:
            return create_platform_key(session, scopes=scopes or ("ops_read", "ops_write")).token

    def revoke(self, token: str) -> None:
        with self.transaction() as session:
            revoke_key(session, key_id=token.removeprefix("sk_").split(".")[0])

    def publish(self, rows: list[dict[str, Any]], *, at: datetime = T0) -> PublishResult:
        return publish_mismatches(self.database_url, rows, published_at=at)

    def publish_invoices(
        self, drafts: list[dict[str, Any]], lines: list[dict[str, Any]], *, at: datetime = T0
    ) -> InvoicePublishResult:
        return publish_invoices(self.database_url, drafts, lines, published_at=at)

    def green_verdict(self, tenant_id: str, period: str, *, artifacts: Path,
                      invoices: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])) -> list[dict[str, Any]]:  # fmt: skip
        """Record a green gate verdict for the tenant's period naming the drafts of `invoices` (draft and
        line rows), written under `artifacts` as the artifact writer writes them; returns their documents."""
        documents = list(draft_documents(*invoices, scope=None).values())
        for document in documents:
            write_artifact(invoices_dir(artifacts, tenant_id, period), document["currency"],
                           document["draftHash"], document)  # fmt: skip
        named = [{"file": draft_file_name(document), "currency": document["currency"],
                  "draftHash": document["draftHash"]} for document in documents]  # fmt: skip
        verdict = {
            "tenantId": tenant_id, "period": period, "verdictHash": f"vh_{tenant_id}_{period}",
            "asOf": iso_micro(period_bounds(period)[1] + timedelta(days=2)),  # the close instant
            "verdict": {"ok": True, "failingCheckIds": [], "warningCheckIds": []},
            "inputs": {"landingFiles": [], "reconciliationReports": [], "invoiceDrafts": named},
        }  # fmt: skip
        with self.transaction() as session:
            record_verdict(session, verdict, now=utc_now())
        return documents


def invoice_rows(
    tenant_id: str, period: str, *, currency: str = "USD", runs: int = 0, volume_cents: int = 150_000
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One builder-plan draft as marts.fct_invoice_drafts and fct_invoice_draft_lines hold it: the
    subscription, the fee on settled volume (75 bps, rounded down) and `runs` overage runs at 1 cent each."""
    digest = "0" * 64
    key = {"tenant_id": tenant_id, "period": period, "currency": currency}
    lines = [
        {**key, "line_code": "SUBSCRIPTION_BASE", "description": "Settld builder plan, monthly subscription",
         "quantity": 1, "unit_amount_cents": 9_900, "unit_amount_bps": None, "unit_amount_milli_cents": None,
         "amount_cents": 9_900, "source_event_count": 0, "source_event_digest": digest},
        {**key, "line_code": "SETTLED_VOLUME_FEE", "description": "Fee on settled volume",
         "quantity": volume_cents, "unit_amount_cents": None, "unit_amount_bps": 75,
         "unit_amount_milli_cents": None, "amount_cents": volume_cents * 75 // 10_000,
         "source_event_count": 3, "source_event_digest": "1" * 64},
    ]  # fmt: skip
    if runs:
        lines.append({**key, "line_code": "VERIFIED_RUN_OVERAGE", "description": "Verified runs beyond the plan's included runs",
                      "quantity": runs, "unit_amount_cents": None, "unit_amount_bps": None, "unit_amount_milli_cents": 1_000,
                      "amount_cents": runs, "source_event_count": 10_000 + runs, "source_event_digest": "2" * 64})  # fmt: skip
    draft = {**key, "plan": "builder", "plan_source": "configured", "is_plan_currency": True,
             "line_count": len(lines), "event_count": 3 + runs, "events_digest": f"{3 + runs:064x}",
             "subtotal_cents": sum(line["amount_cents"] for line in lines)}  # fmt: skip
    return [draft], lines


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
