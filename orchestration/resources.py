"""Dagster resources: the warehouse chosen by settings, and the dbt CLI pointed at the same warehouse."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from ingestion import duckdb_sink
from settld.settings import WarehouseTarget, dbt_environment, warehouse_target


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse named by `SETTLD_WAREHOUSE_URL` (a DuckDB file by default)."""

    url: str
    grace_days: int = 7

    @property
    def target(self) -> WarehouseTarget:
        return warehouse_target(self.url)

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        if read_only:
            return duckdb.connect(str(self.target.duckdb_path), read_only=True)
        return duckdb_sink.connect(self.target.duckdb_path)

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
