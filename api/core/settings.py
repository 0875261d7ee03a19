"""Settings of the operator API, from the environment (`SETTLD_API_*`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.core.request_json import JsonLimits
from settld.settings import Settings


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SETTLD_API_", extra="ignore")

    # `sqlite:///<path>` or `postgresql+psycopg://user:pw@host/db`; the default is settld.settings' (the
    # SQLite file under warehouse/ that every command and the pipeline use).
    database_url: str = Field(default_factory=lambda: Settings().api_database_url)
    # How long a SQLite writer waits for the write lock before giving up (seconds).
    sqlite_busy_timeout: float = 30.0
    # Refuse to start unless the database is migrated to head (`settld api migrate` is the deploy step;
    # the app never migrates). Off only for a test that swaps the database in after building the app.
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
