"""Reconciliation reports (ReconcileReport.v1) per tenant, period and provider."""

import dagster as dg

from orchestration.defs.reconciliation.assets import reconciliation_reports

defs = dg.Definitions(assets=[reconciliation_reports])
