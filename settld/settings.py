"""One place that decides the environment: where the warehouse, landing zone, artifacts and the operator
API's database live, and every setting's one default.

Everything (the CLI's commands, the make targets, the operator API's `ApiSettings`, Dagster resources, the
dbt profile, tests) reads these settings instead of scattering `os.environ` look-ups or defaults of its
own. The defaults are folders of `SETTLD_HOME` (the repository unless set): `warehouse/settld.duckdb`,
`warehouse/settld-api.sqlite3`, `data/landing`, `artifacts/`; a variable set in the environment wins.
The dbt profile reads the variables `dbt_environment()` gives the dbt process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def home_defaults(home: Path) -> dict[str, Any]:
    """The default of each location under `home` (SETTLD_HOME): the only place these paths are written."""
    return {
        "warehouse_url": str(home / "warehouse" / "settld.duckdb"),
        "landing_dir": home / "data" / "landing",
        "artifacts_dir": home / "artifacts",
        "api_database_url": f"sqlite:///{home / 'warehouse' / 'settld-api.sqlite3'}",
        "spark_dir": home / "warehouse" / "spark",
    }


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SETTLD_", extra="ignore")

    # The folder whose warehouse/, data/ and artifacts/ the location defaults are in (`SETTLD_HOME`):
    # the repository, or another folder for a demo of its own (`make demo-postgres`, the README test).
    home: Path = REPO_ROOT
    # Each location below defaults to its place under `home` (`home_defaults`).
    warehouse_url: str  # a DuckDB file path, a `postgresql://` URL, `spark://local` or `spark+thrift://H:P`
    landing_dir: Path
    artifacts_dir: Path
    # The operator API's database: a SQLite file by default, `postgresql+psycopg://...` in production.
    # Every command, the API and the pipeline use it; set to '' it is an error, never "no API".
    api_database_url: str
    # A Spark warehouse's folder (`SETTLD_SPARK_DIR`): the loader's raw Parquet, the operator API's snapshot,
    # and for `spark://local` the session's warehouse directory and Derby metastore (settld/spark.py).
    spark_dir: Path
    # How many reconciliation reports to keep per tenant, period and provider (newest by as-of time).
    reconciliation_retention: int = 5
    # Mirrors dbt's var `reconciliation_grace_days`; recorded in each report's parameters.
    reconciliation_grace_days: int = 7
    # Whether `settld run` runs the great-expectations suites on the rows each dataset's latest load
    # brought in (`SETTLD_QUALITY_RAW_CHECKS`); `settld bench` leaves them on. The period gate always runs
    # them on the period's rows.
    quality_raw_checks: bool = True
    # A sick landing zone (a rejected file, a dataset quarantined above its threshold or below its minimum
    # row count; ingestion/health.py) stops `settld run` after loading, before dbt. With `keep_going`
    # (`SETTLD_KEEP_GOING`, or `settld run --keep-going`) the marts are built anyway on what loaded, the
    # run lists what was left out and still exits non-zero.
    keep_going: bool = False
    # Per-dataset overrides of the contracts' thresholds (ingestion/contracts.py), as JSON objects in the
    # environment: SETTLD_MAX_QUARANTINE_RATE='{"money_rail_operations": 0.2}', SETTLD_MIN_ROWS='{...}'.
    max_quarantine_rate: dict[str, float] = {}
    min_rows: dict[str, int] = {}
    # How long a `settld run` waits for another writer of the same warehouse to finish before it refuses,
    # naming the holder (`SETTLD_RUN_LOCK_WAIT_SECONDS`; 0: refuse at once). settld/warehouse.py: writer_lock.
    run_lock_wait_seconds: float = 0

    @model_validator(mode="before")
    @classmethod
    def _locations_under_home(cls, data: Any) -> Any:
        """Fill each location not given (argument or environment) with its default under `home`."""
        if not isinstance(data, dict):
            return data
        home = Path(data.get("home") or REPO_ROOT).expanduser().resolve()
        given = {name: value for name, value in data.items() if value is not None}
        return {**home_defaults(home), **given, "home": home}


SPARK_LOCAL_URL = "spark://local"
SPARK_THRIFT_SCHEME = "spark+thrift://"


@dataclass(frozen=True)
class WarehouseTarget:
    """The warehouse named by `SETTLD_WAREHOUSE_URL`: a DuckDB file path, a `postgresql://` URL, or Spark:
    `spark://local` (an in-process session) or `spark+thrift://HOST:PORT` (a Thrift server)."""

    kind: Literal["duckdb", "postgres", "spark"]
    url: str
    # Spark only: the folder of its raw Parquet, snapshot, and (session) warehouse and metastore.
    spark_dir: Path | None = None

    @property
    def spark_method(self) -> Literal["session", "thrift"]:
        if self.kind != "spark":
            raise ValueError("not a Spark warehouse")
        return "thrift" if self.url.startswith(SPARK_THRIFT_SCHEME) else "session"

    @property
    def spark_host_port(self) -> tuple[str, int]:
        """HOST and PORT of a `spark+thrift://HOST:PORT` URL (port 10000, Spark's default, if left out)."""
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 10000

    @property
    def duckdb_path(self) -> Path:
        if self.kind != "duckdb":
            raise ValueError("not a DuckDB warehouse")
        return Path(self.url.removeprefix("duckdb:///")).expanduser().resolve()

    @property
    def dbt_target(self) -> str:
        return self.kind


def is_spark_url(url: str | None) -> bool:
    return bool(url) and (url == SPARK_LOCAL_URL or url.startswith(SPARK_THRIFT_SCHEME))


def warehouse_target(url: str | None = None) -> WarehouseTarget:
    settings = Settings()
    url = url or settings.warehouse_url
    if is_spark_url(url):
        return WarehouseTarget("spark", url, Path(settings.spark_dir).expanduser().resolve())
    if url.startswith("spark"):
        raise ValueError(f"not a Spark warehouse URL: {url} (spark://local or spark+thrift://HOST:PORT)")
    if is_postgres_url(url):
        return WarehouseTarget("postgres", url)
    return WarehouseTarget("duckdb", url)


def sqlite_path(database_url: str | None) -> str:
    """The file of a `sqlite:///...` URL, or '' for anything else (no URL, Postgres)."""
    if database_url and database_url.startswith("sqlite:///"):
        return str(Path(database_url.removeprefix("sqlite:///")).expanduser().resolve())
    return ""


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://"))


def postgres_schema(database_url: str | None) -> str:
    """The schema a Postgres URL's tables live in: the first `search_path` entry of its `options`
    (`?options=-csearch_path%3Doperator_api`), else `public`; '' for anything that is not Postgres."""
    if not is_postgres_url(database_url):
        return ""
    options = " ".join(parse_qs(urlsplit(database_url).query).get("options", []))
    match = re.search(r"(?:-c\s*|--)search_path=([^,\s]+)", options)
    return match.group(1).strip('"') if match else "public"


def postgres_parts(url: str) -> dict[str, str]:
    """host, port, user, password and database of a Postgres URL (for the dbt profile)."""
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": str(parts.port or 5432),
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "database": parts.path.lstrip("/") or "postgres",
    }


def display_url(url: str) -> str:
    """A database URL for people and logs: a Postgres URL without its password; anything else as it is."""
    if not is_postgres_url(url):
        return url
    parts = postgres_parts(url)
    return f"postgresql://{parts['user']}@{parts['host']}:{parts['port']}/{parts['database']}"


def same_postgres_database(first: str | None, second: str | None) -> bool:
    if not (is_postgres_url(first) and is_postgres_url(second)):
        return False
    keys = ("host", "port", "database")
    return all(postgres_parts(first)[k] == postgres_parts(second)[k] for k in keys)


# dbt reads the run's as-of instant from this environment variable (macro `reconciliation_as_of`), not from
# `--vars`: dbt re-parses the whole project whenever its vars change, and the as-of changes every run.
DBT_AS_OF_ENVIRONMENT = "SETTLD_DBT_AS_OF"


def dbt_vars(
    *, as_of: str, grace_days: int, api_database_url: str | None = None, warehouse_url: str | None = None
) -> dict[str, str | int]:
    """The dbt vars of a run: the as-of instant (UTC, 'YYYY-MM-DD HH:MM:SS[.ffffff]'), the grace period,
    and where dbt can read the operator API's triage: its SQLite file (attached by DuckDB), or, on a
    Postgres warehouse, the API's schema when the API lives in the same Postgres database; on Spark, the
    Parquet snapshot a run writes of the API's tables (ingestion/operator_api_snapshot.py)."""
    return {"as_of": as_of, **dbt_parse_vars(grace_days=grace_days, api_database_url=api_database_url,
                                             warehouse_url=warehouse_url)}  # fmt: skip


def dbt_parse_vars(
    *, grace_days: int, api_database_url: str | None = None, warehouse_url: str | None = None
) -> dict[str, str | int]:
    """The `--vars` dbt is given, parse and build alike: the run's vars but the as-of (which travels in
    `DBT_AS_OF_ENVIRONMENT`). The same from run to run, so dbt's partial parsing holds between runs."""
    same_database = same_postgres_database(warehouse_url, api_database_url)
    spark = is_spark_url(warehouse_url)
    return {
        "reconciliation_grace_days": grace_days,
        "operator_api_sqlite_path": "" if spark else sqlite_path(api_database_url),
        "operator_api_schema": postgres_schema(api_database_url) if same_database else "",
        "operator_api_snapshot": "true" if spark else "false",
    }


def split_as_of(variables: dict[str, str | int]) -> tuple[dict[str, str | int], dict[str, str]]:
    """A run's vars as dbt is given them: (the `--vars` without the as-of, the environment with it)."""
    rest = {name: value for name, value in variables.items() if name != "as_of"}
    return rest, ({DBT_AS_OF_ENVIRONMENT: str(variables["as_of"])} if "as_of" in variables else {})


def duckdb_sqlite_extension() -> str:
    """DuckDB's sqlite extension from the `duckdb-extension-sqlite-scanner` wheel (no downloads here)."""
    import duckdb
    import duckdb_extension_sqlite_scanner

    root = Path(duckdb_extension_sqlite_scanner.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    return str(next(root.glob("sqlite_scanner.duckdb_extension"), ""))


def dbt_environment(target: WarehouseTarget) -> dict[str, str]:
    """Environment variables the dbt profile reads for this warehouse (the target itself is dbt's
    `--target`, chosen by `WarehouseTarget.dbt_target`)."""
    if target.kind == "spark":
        from settld.spark import spark_dbt_environment

        return spark_dbt_environment(target)
    if target.kind == "duckdb":
        return {
            "SETTLD_DUCKDB_PATH": str(target.duckdb_path),
            "SETTLD_DUCKDB_SQLITE_EXTENSION": duckdb_sqlite_extension(),
        }
    parts = postgres_parts(target.url)
    return {
        "SETTLD_PGHOST": parts["host"],
        "SETTLD_PGPORT": parts["port"],
        "SETTLD_PGUSER": parts["user"],
        "SETTLD_PGPASSWORD": parts["password"],
        "SETTLD_PGDATABASE": parts["database"],
    }
