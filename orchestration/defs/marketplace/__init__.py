"""Marketplace: the funnel by month for ops (table and chart) in the Dagster UI."""

import dagster as dg

from orchestration.defs.marketplace.assets import marketplace_funnel

defs = dg.Definitions(assets=[marketplace_funnel])
