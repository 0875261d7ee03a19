"""Great-expectations suites on the raw layer, as asset checks (the daily run's raw_quality stage)."""

import dagster as dg

from orchestration.defs.quality.checks import raw_great_expectations

defs = dg.Definitions(asset_checks=[raw_great_expectations])
