"""Onboarding: the funnel by cohort for ops, and the first settlement written back to the API."""

import dagster as dg

from orchestration.defs.onboarding.assets import onboarding_first_settlements, onboarding_funnel

defs = dg.Definitions(assets=[onboarding_funnel, onboarding_first_settlements])
