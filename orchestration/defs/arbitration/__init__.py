"""Disputes and arbitration: the settlements published to the operator API, and the SLA watchdog."""

import dagster as dg

from orchestration.defs.arbitration.assets import published_settlements

defs = dg.Definitions(assets=[published_settlements])
