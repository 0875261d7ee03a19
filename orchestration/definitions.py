"""The Dagster code location: merges every domain's definitions (`orchestration/defs/<domain>/`) with the
daily run's jobs, schedule and sensors and the resources. It wires; it does not compute.

Nothing here lists assets: each domain package exposes `defs`, found by walking `orchestration.defs`.
"""

from __future__ import annotations

import importlib
import pkgutil

import dagster as dg

import orchestration.defs as domains
from orchestration.resources import build_resources  # noqa: F401  (re-exported for callers)
from orchestration.schedules import daily_run_schedule, daily_run_sensors
from orchestration.stages import STAGE_TAG, Stage, stage_jobs
from settld.settings import Settings


def domain_definitions() -> list[dg.Definitions]:
    """`defs` of every domain package under orchestration/defs/ (and any path appended to its __path__)."""
    found = []
    for module in sorted(pkgutil.iter_modules(domains.__path__), key=lambda m: m.name):
        if not module.ispkg:
            continue
        package = importlib.import_module(f"{domains.__name__}.{module.name}")
        definitions = getattr(package, "defs", None)
        if not isinstance(definitions, dg.Definitions):
            raise TypeError(f"{package.__name__} must expose `defs = dagster.Definitions(...)`")
        found.append(definitions)
    return found


def assets_and_checks(definitions: list[dg.Definitions]) -> list:
    """Every asset and standalone check, for `dg.materialize` over a selection (the billing smoke)."""
    return [item for d in definitions for item in [*(d.assets or []), *(d.asset_checks or [])]]


def raw_quality_checks(definitions: list[dg.Definitions]) -> list[dg.AssetCheckKey]:
    """Checks defined apart from their assets on load-stage assets: the daily run's raw_quality stage."""
    load_keys = {
        spec.key
        for d in definitions
        for assets in d.assets or []
        if isinstance(assets, dg.AssetsDefinition)
        for spec in assets.specs
        if spec.tags.get(STAGE_TAG) == Stage.load.value
    }
    return sorted(
        (key for d in definitions for checks in d.asset_checks or [] for key in checks.check_keys
         if key.asset_key in load_keys),
        key=lambda key: key.to_user_string(),
    )  # fmt: skip


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    found = domain_definitions()
    jobs = stage_jobs(raw_quality_checks(found))
    daily_run = dg.Definitions(
        jobs=jobs,
        schedules=[daily_run_schedule],
        sensors=daily_run_sensors({job.name: job for job in jobs}),
        resources=build_resources(settings or Settings()),
    )
    return dg.Definitions.merge(*found, daily_run)


defs = build_definitions()
# Every asset and check of the domains as found at import, for `dg.materialize(ASSETS, selection=...)`.
ASSETS = assets_and_checks(domain_definitions())
