"""Dagster resources, built from the settings (`build_resources`): the warehouse, the landing zone, the
artifacts folder, the operator API's database, Stripe and the dbt CLI.

Values that can carry a secret (the warehouse and API database URLs, which may hold a password, and the
Stripe key) reach a resource as `dg.EnvVar(...)` whenever they come from the environment, so Dagster
resolves them at run time and the UI shows only the variable's name. No resource writes `os.environ`:
dbt's profile variables are handed to the dbt process by the dbt asset (`dbt_profile_environment`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version

from settld.settings import DBT_PROJECT_DIR, Settings, WarehouseTarget, dbt_environment, warehouse_target
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


class LandingZoneResource(dg.ConfigurableResource):
    """The directory where kernel, rail and Stripe exports arrive (`SETTLD_LANDING_DIR`), and how sick it
    may be before the run stops: per-dataset overrides of the contracts' thresholds, and whether a sick
    landing zone is a warning that lets the run go on (`SETTLD_KEEP_GOING`)."""

    path: str
    max_quarantine_rate: dict[str, float] = {}
    min_rows: dict[str, int] = {}
    keep_going: bool = False

    @property
    def directory(self) -> Path:
        return Path(self.path).expanduser().resolve()


class ArtifactsResource(dg.ConfigurableResource):
    """Where reports for people are written (`SETTLD_ARTIFACTS_DIR`) and how many are kept."""

    path: str
    reconciliation_retention: int = 5

    @property
    def directory(self) -> Path:
        return Path(self.path).expanduser().resolve()


class OperatorApiResource(dg.ConfigurableResource):
    """The operator API's database (`SETTLD_API_DATABASE_URL`; settld.settings gives its default)."""

    database_url: str


class StripeResource(dg.ConfigurableResource):
    """Stripe API access: `STRIPE_API_KEY` (read access to events) and, for the emulator, a base URL."""

    api_key: str = ""
    api_base: str = ""
    account: str = "default"

    def client(self):
        import stripe

        base = {"api": self.api_base} if self.api_base else None
        return stripe.StripeClient(self.api_key, base_addresses=base, max_network_retries=3)


# The dbt installed beside this interpreter, so a venv works without being on PATH.
DBT_BESIDE_PYTHON = Path(sys.executable).parent / "dbt"


class SettldDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, told the dbt version instead of asking: before every invocation dagster-dbt
    runs `dbt --version` in a process of its own (to tell dbt-core from the Fusion engine), 2.4 s of a
    demo-size run (docs/performance.md). The dbt beside this interpreter is the dbt-core package this
    process imports, so its version is known; any other executable is still asked."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable) != DBT_BESIDE_PYTHON:
            return super()._cli_version
        from dbt.version import __version__

        return version.parse(__version__)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        """No dbt adapter in this process. dagster-dbt opens one before every invocation only to read column
        metadata and row counts after the build (`fetch_column_metadata`, `fetch_row_counts`), which no
        asset here asks for; opening it imports dbt-core and loads the profile and project, about 4 s of
        a demo-size run's main process (docs/performance.md, "No dbt adapter in the run's process")."""
        return None


def dbt_resource(target: WarehouseTarget) -> DbtCliResource:
    """The dbt CLI on the project; the target (`duckdb` or `postgres`) is chosen here and only here."""
    return SettldDbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        target=target.dbt_target,
        dbt_executable=str(DBT_BESIDE_PYTHON) if DBT_BESIDE_PYTHON.exists() else "dbt",
    )


@contextmanager
def dbt_profile_environment(target: WarehouseTarget, extra: dict[str, str] | None = None) -> Iterator[None]:
    """The profile's variables for `target` (and `extra`: the run's as-of, `settld.settings.split_as_of`)
    while a dbt invocation starts, then the environment as it was.

    dagster-dbt gives the dbt process a copy of this process's environment and reads the profile
    in-process at the same moment; there is no other way in. The copy is taken inside the block, so the
    variables (a Postgres password among them) live in this process only while the invocation starts."""
    if target.kind == "spark":  # Derby's metastore takes one process: this one lets go of it for dbt's
        from settld.spark import end_spark_session

        end_spark_session()
    values = {**dbt_environment(target), **(extra or {})}
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _from_environment(name: str, value: str) -> str | dg.EnvVar:
    """`dg.EnvVar(name)` when the environment holds this value (the UI then shows the variable's name,
    never the value); the value itself when it came from elsewhere (a CLI flag, a default path)."""
    return dg.EnvVar(name) if value and os.environ.get(name) == value else value


def build_resources(settings: Settings) -> dict:
    target = warehouse_target(settings.warehouse_url)
    return {
        "warehouse": WarehouseResource(
            url=_from_environment("SETTLD_WAREHOUSE_URL", settings.warehouse_url),
            grace_days=settings.reconciliation_grace_days,
        ),
        "artifacts": ArtifactsResource(
            path=str(settings.artifacts_dir), reconciliation_retention=settings.reconciliation_retention
        ),
        "landing": LandingZoneResource(
            path=str(settings.landing_dir),
            max_quarantine_rate=settings.max_quarantine_rate,
            min_rows=settings.min_rows,
            keep_going=settings.keep_going,
        ),
        "operator_api": OperatorApiResource(
            database_url=_from_environment("SETTLD_API_DATABASE_URL", settings.api_database_url)
        ),
        "dbt": dbt_resource(target),
        "stripe": StripeResource(
            api_key=_from_environment("STRIPE_API_KEY", os.environ.get("STRIPE_API_KEY", "")),
            api_base=os.environ.get("SETTLD_STRIPE_API_BASE", ""),
            account=os.environ.get("SETTLD_STRIPE_ACCOUNT", "default"),
        ),
    }
