"""Onboarding: the funnel by cohort for ops, the first settlement and the cohorts published to the API."""

import dagster as dg

from orchestration.defs.onboarding.assets import (
    onboarding_cohorts,
    onboarding_first_settlements,
    onboarding_funnel,
)

defs = dg.Definitions(assets=[onboarding_funnel, onboarding_first_settlements, onboarding_cohorts])
