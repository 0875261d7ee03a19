"""Monthly period partitions: a Settld period is a UTC calendar month written YYYY-MM."""

import warnings

import dagster as dg

# The per-period assets use BackfillPolicy.single_run() (one run covers a range of periods), which
# Dagster 1.13 marks beta.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

# end_offset=1 includes the current, still-open month: the daily reconciliation covers it.
period_partitions = dg.MonthlyPartitionsDefinition(start_date="2024-01", fmt="%Y-%m", end_offset=1)
