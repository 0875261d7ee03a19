"""Dagster resources: the warehouse chosen by settings, and the dbt CLI pointed at the same warehouse."""

from __future__ import annotations

import os
import sys
from contextlib import AbstractContextManager
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from settld.settings import WarehouseTarget, dbt_environment, warehouse_target
from settld.warehouse import Warehouse
from settld.warehouse import connect as connect_warehouse


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse named by `SETTLD_WAREHOUSE_URL`: a DuckDB file (the default) or a `postgresql://` URL."""

    url: str
    grace_days: int = 7

    @property
    def target(self) -> WarehouseTarget:
        return warehouse_target(self.url)

    def connect(self, read_only: bool = False) -> AbstractContextManager[Warehouse]:
        """The warehouse for queries (settld.warehouse: `?` placeholders on both engines)."""
        return connect_warehouse(self.target, read_only=read_only)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # dbt runs as a subprocess that inherits this process's environment: point its profile here.
        os.environ.update(dbt_environment(self.target))


class LandingZoneResource(dg.ConfigurableResource):
    """The directory where kernel, rail and Stripe exports arrive (`SETTLD_LANDING_DIR`)."""

    path: str

    @property
    def directory(self) -> Path:
        return Path(self.path).expanduser().resolve()


def dbt_resource(project_dir: Path, target: WarehouseTarget) -> DbtCliResource:
    # The dbt installed beside this interpreter, so a venv works without being on PATH.
    beside_python = Path(sys.executable).parent / "dbt"
    return DbtCliResource(
        project_dir=str(project_dir),
        profiles_dir=str(project_dir),
        target=target.dbt_target,
        dbt_executable=str(beside_python) if beside_python.exists() else "dbt",
    )


class ArtifactsResource(dg.ConfigurableResource):
    """Where reports for people are written (`SETTLD_ARTIFACTS_DIR`) and how many are kept."""

    path: str
    reconciliation_retention: int = 5

    @property
    def directory(self) -> Path:
        return Path(self.path).expanduser().resolve()


class OperatorApiResource(dg.ConfigurableResource):
    """The operator API's database (`SETTLD_API_DATABASE_URL`); empty when no API is configured."""

    database_url: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.database_url)
