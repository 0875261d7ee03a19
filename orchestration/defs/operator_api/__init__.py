"""What the operator API needs from the warehouse, published into its database, and its housekeeping."""

import dagster as dg

from orchestration.defs.operator_api.assets import (
    published_billing_usage,
    published_invoices,
    published_reconciliation_mismatches,
)
from orchestration.defs.operator_api.maintenance import (
    purge_idempotency_records_job,
    purge_idempotency_records_schedule,
)

defs = dg.Definitions(
    assets=[published_reconciliation_mismatches, published_invoices, published_billing_usage],
    jobs=[purge_idempotency_records_job],
    schedules=[purge_idempotency_records_schedule],
)
