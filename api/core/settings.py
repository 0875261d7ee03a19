"""Settings of the operator API, from the environment (`SETTLD_API_*`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.core.database import DatabaseTimeouts
from api.core.request_json import JsonLimits
from settld.settings import Settings


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SETTLD_API_", extra="ignore")

    # `sqlite:///<path>` or `postgresql+psycopg://user:pw@host/db`; the default is settld.settings' (the
    # SQLite file under warehouse/ that every command and the pipeline use).
    database_url: str = Field(default_factory=lambda: Settings().api_database_url)
    # How long the API may wait on its database (seconds; docs/DECISIONLOG.md, "The API degrades, never
    # hangs"). Past any of them a request answers 503 DATABASE_UNAVAILABLE with Retry-After, never hangs:
    # connecting (refused is immediate; a frozen server is given this long; libpq counts at least 2 s),
    database_connect_timeout: float = Field(default=2.0, gt=0, le=60)
    # one statement (Postgres cancels it server-side; a server that cannot, being frozen, loses the
    # connection `database_deadline_grace` later) and how long a SQLite writer waits for the write lock,
    database_statement_timeout: float = Field(default=5.0, gt=0, le=300)
    database_deadline_grace: float = Field(default=1.0, ge=0, le=60)
    # and waiting for a pooled connection when all are in use (pool exhausted).
    database_pool_timeout: float = Field(default=2.0, gt=0, le=60)
    database_pool_size: int = Field(default=5, ge=1, le=100)
    database_max_overflow: int = Field(default=10, ge=0, le=100)
    # What a 503 asks the client to wait before retrying (seconds).
    retry_after_seconds: int = Field(default=1, ge=1, le=3600)
    # How long a SQLite writer waits for the write lock (seconds): the statement timeout unless set. A
    # request holds the lock for milliseconds, so a longer wait only means a stuck writer (the CLI's and the
    # pipeline's own batch writes wait 30 s: api/core/database.py).
    sqlite_busy_timeout: float | None = Field(default=None, gt=0, le=300)
    # How long a stored Idempotency-Key response is replayed (hours; Stripe keeps keys 24 h). Past it the
    # key is forgotten: the same key is a new request. `settld api purge` and the daily Dagster schedule
    # delete expired records.
    idempotency_retention_hours: float = Field(default=24.0, gt=0)
    # Refuse to start unless the database is migrated to head (`settld api migrate` is the deploy step;
    # the app never migrates). A database that cannot be reached does not stop the start (503 until it is
    # back; api/main.py). Off only for a test that swaps the database in after building the app.
    check_schema_on_startup: bool = True
    # The Stripe webhook's signing secret (`whsec_...`, Stripe's own variable name) and how old a signed
    # delivery may be (seconds; 0 accepts any age). Without a secret every delivery is rejected.
    stripe_webhook_secret: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "STRIPE_WEBHOOK_SECRET", "SETTLD_API_STRIPE_WEBHOOK_SECRET", "stripe_webhook_secret"
        ),
    )
    stripe_webhook_tolerance: int = Field(default=300, ge=0)
    # Checkout and the customer portal (api/billing/provider.py): the Stripe secret key (live mode; none:
    # stub mode), the API base (the emulator's in tests and `make demo`), the price of each paid plan
    # (a JSON object, {"builder": "price_..."}), the SDK's retries, and the circuit breaker: this many
    # consecutive retryable failures open it for this many seconds (503 BILLING_PROVIDER_CIRCUIT_OPEN).
    stripe_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("STRIPE_API_KEY", "SETTLD_API_STRIPE_API_KEY", "stripe_api_key"),
    )
    stripe_api_base: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "SETTLD_STRIPE_API_BASE", "SETTLD_API_STRIPE_API_BASE", "stripe_api_base"
        ),
    )
    stripe_prices: dict[str, str] = Field(default_factory=dict)
    stripe_max_network_retries: int = Field(default=2, ge=0, le=5)
    billing_stub_base_url: str = "http://127.0.0.1:8000/billing/stub"
    billing_circuit_fail_max: int = Field(default=3, ge=1, le=100)
    billing_circuit_reset_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Limits on what a request may carry (api/core/middleware.py, api/core/request_json.py): a larger body
    # is 413 BODY_TOO_LARGE and JSON nested deeper 400 JSON_TOO_DEEP, on every route before it runs; text
    # in a write's JSON body (a value or a key) longer than max_string_length characters is 422.
    max_body_bytes: int = Field(default=1 << 20, ge=1)
    max_json_depth: int = Field(default=64, ge=1, le=200)  # far below Python's recursion limit
    max_string_length: int = Field(default=16_384, ge=1)
    # Where reconciliation reports are read from and evidence bundles written (the pipeline's artifacts).
    artifacts_dir: Path = Field(
        default_factory=lambda: Settings().artifacts_dir,
        validation_alias=AliasChoices("SETTLD_API_ARTIFACTS_DIR", "SETTLD_ARTIFACTS_DIR", "artifacts_dir"),
    )

    @property
    def database_timeouts(self) -> DatabaseTimeouts:
        return DatabaseTimeouts(
            connect=self.database_connect_timeout,
            statement=self.database_statement_timeout,
            deadline_grace=self.database_deadline_grace,
            pool=self.database_pool_timeout,
            pool_size=self.database_pool_size,
            max_overflow=self.database_max_overflow,
            sqlite_busy=self.sqlite_busy_timeout or self.database_statement_timeout,
        )

    @property
    def request_bound_seconds(self) -> float:
        """The longest a request may wait on the database before it is answered (503 at worst): a pooled
        connection, its ping (or a new connection) and a reconnection, then the statement deadline."""
        return (
            self.database_pool_timeout
            + 2 * max(self.database_connect_timeout, 2.0)  # libpq counts at least 2 s
            + self.database_statement_timeout
            + self.database_deadline_grace
        )

    @property
    def idempotency_retention(self) -> timedelta:
        return timedelta(hours=self.idempotency_retention_hours)

    @property
    def json_limits(self) -> JsonLimits:
        return JsonLimits(max_depth=self.max_json_depth, max_string_length=self.max_string_length)

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        return normalise_database_url(value)


def normalise_database_url(url: str) -> str:
    """Accept the spellings people type and return the SQLAlchemy URL the API uses.

    A bare path is a SQLite file; `postgres://` and `postgresql://` mean psycopg 3 (the driver we ship).
    """
    url = url.strip()
    if not url:
        raise ValueError("database URL is empty")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    if "://" not in url:
        return f"sqlite:///{url}"
    return url
