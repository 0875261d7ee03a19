"""Great-expectations suites and freshness checks on the raw layer, as asset checks (the daily run's
raw_quality stage)."""

import dagster as dg

from orchestration.defs.quality.checks import raw_great_expectations
from orchestration.defs.quality.freshness import landing_freshness

defs = dg.Definitions(asset_checks=[raw_great_expectations, landing_freshness])
