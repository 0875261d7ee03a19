"""Stripe webhook deliveries (every one, accepted or not), accepted events (once per event id) and the
customer-to-tenant mapping. dbt reads the first two as sources (webhook health, event gaps)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.core.database import Base, UTCDateTime
from api.core.states import check_constraint

DELIVERY_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class DeliveryStatus(StrEnum):
    """How a delivery was judged (api/billing/webhook.py): stored, a repeat, an unused type, or refused."""

    accepted = "accepted"
    duplicate = "duplicate"
    ignored = "ignored"
    rejected = "rejected"


class StripeWebhookDelivery(Base):
    """One HTTP delivery to the webhook: status accepted | duplicate | ignored | rejected, with a reason key
    when rejected. Rejected deliveries whose body was kept are dead letters a replay may re-apply."""

    __tablename__ = "stripe_webhook_deliveries"
    __table_args__ = (
        Index("ix_stripe_webhook_deliveries_received", "received_at"),
        Index("ix_stripe_webhook_deliveries_event", "event_id"),
        check_constraint("status", DeliveryStatus, table="stripe_webhook_deliveries"),
    )

    delivery_id: Mapped[int] = mapped_column(DELIVERY_ID_TYPE, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(16))  # webhook | replay
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[str | None] = mapped_column(String(255))
    event_type: Mapped[str | None] = mapped_column(String(255))
    event_created: Mapped[int | None] = mapped_column(BigInteger)  # the event's `created`, epoch seconds
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    signature_header: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(Text)  # the raw body (UTF-8), kept for replay and audit
    replayable: Mapped[bool] = mapped_column(Boolean)
    replayed_delivery_id: Mapped[int | None] = mapped_column(DELIVERY_ID_TYPE)  # set on replay deliveries
    # A dead letter is a state, not a series of copies: each replay of it updates these.
    replay_attempts: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    last_error: Mapped[str | None] = mapped_column(Text)  # the reason key of the last refused replay
    last_replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a replay applied it
    resolution: Mapped[str | None] = mapped_column(String(16))  # accepted | duplicate | ignored


class Attribution(StrEnum):
    """Whose an accepted event is: a tenant's, the platform's (account-level objects: payouts, balance),
    or nobody's yet (parked until a link names its tenant: api/billing/attribution.py)."""

    tenant = "tenant"
    platform = "platform"
    unattributed = "unattributed"


class StripeEvent(Base):
    """An accepted Stripe event, stored once per event id whichever path brought it (webhook, pull, replay)."""

    __tablename__ = "stripe_events"
    __table_args__ = (
        Index("ix_stripe_events_created", "created", "event_id"),
        Index("ix_stripe_events_attribution", "attribution", "customer_id"),
    )

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(255))
    created: Mapped[int] = mapped_column(BigInteger)
    tenant_id: Mapped[str | None] = mapped_column(String(64))  # null: the platform's, or not attributed yet
    attribution: Mapped[str] = mapped_column(String(16), server_default="tenant")
    api_version: Mapped[str | None] = mapped_column(String(64))  # the event's `api_version` (v1) or null
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(255))
    livemode: Mapped[bool] = mapped_column(Boolean)
    ignored: Mapped[bool] = mapped_column(Boolean)  # an event type Settld does not use: kept, not applied
    # Read from subscription events when stored (so SQL never parses JSON): the plan named in metadata,
    # the subscription's status (`canceled` for customer.subscription.deleted) and its customer.
    customer_id: Mapped[str | None] = mapped_column(String(255))
    subscription_status: Mapped[str | None] = mapped_column(String(64))
    plan: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # webhook | pull | replay (first arrival)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StripeCustomerTenant(Base):
    """Which tenant a Stripe customer belongs to, for events whose object carries no metadata.tenant_id."""

    __tablename__ = "stripe_customer_tenants"

    customer_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StripePullCursor(Base):
    """How far the incremental pull has listed a Stripe account's events (the newest `created` seen)."""

    __tablename__ = "stripe_pull_cursors"

    account: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_cursor: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StripeObject(Base):
    """A Stripe object finance reads, in its latest known state (api.billing.objects)."""

    __tablename__ = "stripe_objects"
    __table_args__ = (Index("ix_stripe_objects_tenant", "tenant_id", "object_type"),)

    object_type: Mapped[str] = mapped_column(String(64), primary_key=True)  # subscription, invoice, ...
    object_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    account: Mapped[str] = mapped_column(String(255))
    # When this state was true (epoch s): the carrying event's `created`, or the listing's time.
    state_at: Mapped[int] = mapped_column(BigInteger)
    state_source: Mapped[str] = mapped_column(String(255))  # pull | event:<event id>
    created: Mapped[int | None] = mapped_column(BigInteger)
    livemode: Mapped[bool] = mapped_column(Boolean)
    tenant_id: Mapped[str | None] = mapped_column(String(64))  # null: no metadata and no mapped customer yet
    customer_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str | None] = mapped_column(String(3))  # upper case, as everywhere in the warehouse
    # The object's own amount in minor units: an invoice's total, a charge's, payout's or balance
    # transaction's amount; null for subscriptions.
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    period_start: Mapped[int | None] = mapped_column(BigInteger)  # invoices: Stripe's period_start (epoch s)
    period_end: Mapped[int | None] = mapped_column(BigInteger)
    # Invoices: the service period (api/billing/payments.py): the subscription line's period, else the
    # finalisation date for a one-off invoice. A renewal's period_start/period_end are the PREVIOUS period.
    service_start: Mapped[int | None] = mapped_column(BigInteger)
    service_end: Mapped[int | None] = mapped_column(BigInteger)
    # What the object actually received (a succeeded charge's amount_captured, 0 if it failed; a payment
    # intent's amount_received; an invoice's or invoice payment's amount_paid); amount_cents stays the
    # attempted or billed amount and is never by itself money received.
    amount_received_cents: Mapped[int | None] = mapped_column(BigInteger)
    # A payment's failure facts (charges, payment intents' last_payment_error, invoice payments).
    failure_code: Mapped[str | None] = mapped_column(String(64))
    decline_code: Mapped[str | None] = mapped_column(String(64))
    outcome_type: Mapped[str | None] = mapped_column(String(64))
    outcome_reason: Mapped[str | None] = mapped_column(String(64))
    network_status: Mapped[str | None] = mapped_column(String(64))
    attempt_count: Mapped[int | None] = mapped_column(Integer)
    related_id: Mapped[str | None] = mapped_column(String(255))  # invoice payments: their invoice
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON of the listed object
    payload_sha256: Mapped[str] = mapped_column(String(64))
    first_stored_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when the payload last differed


class UsageType(StrEnum):
    """What the API meters (api/billing/limits.py) and the warehouse publishes (api/billing/usage.py)."""

    verified_runs = "verified_runs"
    settled_volume = "settled_volume"
    arbitration_cases = "arbitration_cases"


NO_CURRENCY = "XXX"  # ISO 4217's code for "no currency involved": the currency of a count


class BillingSubscription(Base):
    """A tenant's subscription with its billing provider (PUT /ops/finance/billing/subscription, or a
    Stripe `customer.subscription.*` event), in its latest known state."""

    __tablename__ = "billing_subscriptions"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(255))
    subscription_id: Mapped[str | None] = mapped_column(String(255))
    price_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str | None] = mapped_column(String(64))  # lower case, as Stripe spells it
    plan: Mapped[str | None] = mapped_column(String(64))  # a catalog plan, or null
    current_period_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    current_period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    last_event_id: Mapped[str | None] = mapped_column(String(255))
    last_event_created: Mapped[int | None] = mapped_column(BigInteger)  # epoch s: older events never win
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BillingUsagePublished(Base):
    """The last published warehouse figures of a tenant's usage (marts.fct_billing_usage): per period,
    usage type and currency (NO_CURRENCY for counts); `as_of` is the as-of instant of the run that
    computed them. The API counts what it witnessed after that instant on top (docs/DECISIONLOG.md)."""

    __tablename__ = "billing_usage_published"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    usage_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger)  # events (runs, cases) or, for volume, cents
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BillingUsageWitnessed(Base):
    """Billable work the API itself created (an accepted run, an opened case): one row per source, so a
    repeat of the same work is metered once (api/billing/limits.py)."""

    __tablename__ = "billing_usage_witnessed"
    __table_args__ = (
        Index("ix_billing_usage_witnessed_period", "tenant_id", "period", "usage_type"),
        check_constraint("usage_type", UsageType, table="billing_usage_witnessed"),
    )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    usage_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    source_ref: Mapped[str] = mapped_column(String(255), primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    quantity: Mapped[int] = mapped_column(BigInteger)
    witnessed_at: Mapped[datetime] = mapped_column(UTCDateTime())
