"""The Dagster code location: assembles assets, checks and resources. It wires; it does not compute."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.billing.assets import stripe_events_pull, stripe_objects_pull, stripe_resource
from orchestration.defs.billing.invoices import invoice_drafts
from orchestration.defs.landing.assets import landing_zone
from orchestration.defs.operator_api.assets import published_reconciliation_mismatches
from orchestration.defs.quality.checks import raw_great_expectations
from orchestration.defs.reconciliation.assets import reconciliation_reports
from orchestration.defs.reconciliation.schedules import (
    daily_reconciliation_job,
    daily_reconciliation_schedule,
)
from orchestration.defs.transform.assets import settld_dbt_models
from orchestration.defs.transform.project import dbt_project
from orchestration.resources import (
    ArtifactsResource,
    LandingZoneResource,
    OperatorApiResource,
    WarehouseResource,
    dbt_resource,
)
from settld.settings import Settings, warehouse_target

# Asset checks defined apart from their assets. They are listed with the assets, so every
# `dg.materialize(ASSETS, ...)` (settld run, tests) runs them with the assets they check.
CHECKS = [raw_great_expectations]
ASSETS = [
    landing_zone,
    settld_dbt_models,
    reconciliation_reports,
    published_reconciliation_mismatches,
    stripe_events_pull,
    stripe_objects_pull,
    invoice_drafts,
    *CHECKS,
]


def build_resources(settings: Settings) -> dict:
    target = warehouse_target(settings.warehouse_url)
    return {
        "warehouse": WarehouseResource(
            url=settings.warehouse_url, grace_days=settings.reconciliation_grace_days
        ),
        "artifacts": ArtifactsResource(
            path=str(settings.artifacts_dir), reconciliation_retention=settings.reconciliation_retention
        ),
        "landing": LandingZoneResource(path=str(settings.landing_dir)),
        "operator_api": OperatorApiResource(database_url=settings.api_database_url or ""),
        "dbt": dbt_resource(dbt_project.project_dir, target),
        "stripe": stripe_resource(),
    }


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=ASSETS,
        jobs=[daily_reconciliation_job],
        schedules=[daily_reconciliation_schedule],
        resources=build_resources(settings or Settings()),
    )


defs = build_definitions()
