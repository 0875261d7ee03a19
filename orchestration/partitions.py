"""Monthly period partitions: a Settld period is a UTC calendar month written YYYY-MM."""

import dagster as dg

# end_offset=1 includes the current, still-open month: the daily reconciliation covers it.
period_partitions = dg.MonthlyPartitionsDefinition(start_date="2024-01", fmt="%Y-%m", end_offset=1)
