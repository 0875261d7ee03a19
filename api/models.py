"""Every table of the API database, imported once so `Base.metadata` is complete (Alembic, tests)."""

from api.arbitration.models import (
    ArbitrationAlert,
    ArbitrationCase,
    ArbitrationCaseRevision,
    Dispute,
    PublishedSettlement,
    SettlementAdjustment,
)
from api.audit.models import AuditLogEntry
from api.billing.models import (
    BillingSubscription,
    BillingUsagePublished,
    BillingUsageWitnessed,
    StripeCustomerTenant,
    StripeEvent,
    StripePullCursor,
    StripeWebhookDelivery,
)
from api.idempotency.models import IdempotencyRecord
from api.invoices.models import Invoice, InvoiceAdjustment, InvoiceLine
from api.marketplace.models import Agreement, Bid, Listing, ListingRevision, Proposal, Rfq
from api.onboarding.models import OnboardingCohort, OnboardingEvent
from api.periods.models import PeriodClose, PeriodGateVerdict
from api.policies.models import PolicyAssignment, PolicyRollout, PolicyRolloutEvent, PolicyVersion
from api.reconciliation.models import ReconciliationMismatch, ReconciliationTriage, ReconciliationTriageAction
from api.tenants.models import ApiKey, Tenant, TenantBootstrap

__all__ = [
    "ApiKey",
    "Agreement",
    "ArbitrationAlert",
    "ArbitrationCase",
    "ArbitrationCaseRevision",
    "BillingSubscription",
    "BillingUsagePublished",
    "BillingUsageWitnessed",
    "AuditLogEntry",
    "Bid",
    "Dispute",
    "IdempotencyRecord",
    "Invoice",
    "InvoiceAdjustment",
    "InvoiceLine",
    "Listing",
    "ListingRevision",
    "OnboardingCohort",
    "OnboardingEvent",
    "PeriodClose",
    "PeriodGateVerdict",
    "PolicyAssignment",
    "PublishedSettlement",
    "PolicyRollout",
    "PolicyRolloutEvent",
    "PolicyVersion",
    "Proposal",
    "ReconciliationMismatch",
    "ReconciliationTriage",
    "ReconciliationTriageAction",
    "Rfq",
    "SettlementAdjustment",
    "StripeCustomerTenant",
    "StripeEvent",
    "StripePullCursor",
    "StripeWebhookDelivery",
    "Tenant",
    "TenantBootstrap",
]
