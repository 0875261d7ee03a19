"""Stripe events and objects in the operator API's stores, and invoice drafts."""

import dagster as dg

from orchestration.defs.billing.assets import stripe_events_pull, stripe_objects_pull
from orchestration.defs.billing.invoices import invoice_drafts

defs = dg.Definitions(assets=[stripe_events_pull, stripe_objects_pull, invoice_drafts])
