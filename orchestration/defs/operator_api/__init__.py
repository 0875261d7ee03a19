"""What the operator API needs from the warehouse, published into its database."""

import dagster as dg

from orchestration.defs.operator_api.assets import published_invoices, published_reconciliation_mismatches

defs = dg.Definitions(assets=[published_reconciliation_mismatches, published_invoices])
