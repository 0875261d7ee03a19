"""One place that decides the environment: where the warehouse, landing zone and artifacts live.

Everything (CLI, Dagster resources, dbt profile, tests) reads these settings instead of scattering
`os.environ` look-ups. The dbt profile reads the same variables, exported by `dbt_environment()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SETTLD_", extra="ignore")

    warehouse_url: str = str(REPO_ROOT / "warehouse" / "settld.duckdb")
    landing_dir: Path = REPO_ROOT / "data" / "landing"
    artifacts_dir: Path = REPO_ROOT / "artifacts"
    api_database_url: str | None = None
    # How many reconciliation reports to keep per tenant, period and provider (newest by as-of time).
    reconciliation_retention: int = 5
    # Mirrors dbt's var `reconciliation_grace_days`; recorded in each report's parameters.
    reconciliation_grace_days: int = 7


@dataclass(frozen=True)
class WarehouseTarget:
    """The warehouse named by `SETTLD_WAREHOUSE_URL`: a DuckDB file path or a `postgresql://` URL."""

    kind: Literal["duckdb", "postgres"]
    url: str

    @property
    def duckdb_path(self) -> Path:
        if self.kind != "duckdb":
            raise ValueError("not a DuckDB warehouse")
        return Path(self.url.removeprefix("duckdb:///")).expanduser().resolve()

    @property
    def dbt_target(self) -> str:
        return self.kind


def warehouse_target(url: str | None = None) -> WarehouseTarget:
    url = url or Settings().warehouse_url
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return WarehouseTarget("postgres", url)
    return WarehouseTarget("duckdb", url)


def sqlite_path(database_url: str | None) -> str:
    """The file of a `sqlite:///...` URL, or '' for anything else (no URL, Postgres)."""
    if database_url and database_url.startswith("sqlite:///"):
        return str(Path(database_url.removeprefix("sqlite:///")).expanduser().resolve())
    return ""


def dbt_vars(*, as_of: str, grace_days: int, api_database_url: str | None = None) -> dict[str, str | int]:
    """The dbt `--vars` of a run: the as-of instant (UTC, 'YYYY-MM-DD HH:MM:SS[.ffffff]'), the grace period,
    and the operator API's SQLite file when there is one to read triage from."""
    return {
        "as_of": as_of,
        "reconciliation_grace_days": grace_days,
        "operator_api_sqlite_path": sqlite_path(api_database_url),
    }


def duckdb_sqlite_extension() -> str:
    """DuckDB's sqlite extension from the `duckdb-extension-sqlite-scanner` wheel (no downloads here)."""
    import duckdb
    import duckdb_extension_sqlite_scanner

    root = Path(duckdb_extension_sqlite_scanner.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    return str(next(root.glob("sqlite_scanner.duckdb_extension"), ""))


def dbt_environment(target: WarehouseTarget) -> dict[str, str]:
    """Environment variables the dbt profile reads for this warehouse."""
    if target.kind == "duckdb":
        return {
            "SETTLD_DBT_TARGET": "duckdb",
            "SETTLD_DUCKDB_PATH": str(target.duckdb_path),
            "SETTLD_DUCKDB_SQLITE_EXTENSION": duckdb_sqlite_extension(),
        }
    return {"SETTLD_DBT_TARGET": "postgres"}
