"""The Dagster code location: assembles assets, checks and resources. It wires; it does not compute."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.landing.assets import landing_zone
from orchestration.defs.transform.assets import settld_dbt_models
from orchestration.defs.transform.project import dbt_project
from orchestration.resources import LandingZoneResource, WarehouseResource, dbt_resource
from settld.settings import Settings, warehouse_target

ASSETS = [landing_zone, settld_dbt_models]


def build_resources(settings: Settings) -> dict:
    target = warehouse_target(settings.warehouse_url)
    return {
        "warehouse": WarehouseResource(url=settings.warehouse_url),
        "landing": LandingZoneResource(path=str(settings.landing_dir)),
        "dbt": dbt_resource(dbt_project.project_dir, target),
    }


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    return dg.Definitions(assets=ASSETS, resources=build_resources(settings or Settings()))


defs = build_definitions()
