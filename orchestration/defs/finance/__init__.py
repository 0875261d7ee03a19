"""Finance integrity reports (FinanceReconciliationReport.v1, EscrowNetCloseSnapshot.v1) per tenant and period."""

import dagster as dg

from orchestration.defs.finance.assets import finance_reports

defs = dg.Definitions(assets=[finance_reports])
