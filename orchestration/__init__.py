"""The Dagster code location (`orchestration.definitions:defs`) and what the CLI needs of it.

The CLI composes the stages through these two functions only, never through a domain's internals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg

    from settld.settings import Settings


def refresh_dbt_manifest(settings: Settings | None = None) -> None:
    """Parse the dbt project, so the definitions match the SQL on disk (with `settings`: as the run's
    build will see it, which keeps dbt's partial parsing between runs)."""
    from orchestration.defs.transform.project import refresh_manifest

    refresh_manifest(settings)


def daily_run_definitions(settings: Settings) -> dg.Definitions:
    """Every domain's definitions, the daily run's jobs and resources for `settings`."""
    from orchestration.definitions import build_definitions

    return build_definitions(settings)
