"""What the pipeline publishes for onboarding: the step only the warehouse can witness (a tenant's first
settlement), and the cohorts ops read (`publish_cohorts`).

`publish_first_settlements(url, rows, published_at=...)` takes `marts.fct_onboarding_funnel`'s tenants
with a `first_settlement_completed_at` and records the platform event `first_settlement_completed` once
per tenant (event id `platform:first_settlement_completed`, `at` = the settlement's resolution,
`received_at` = the publish). A tenant that already has it is left as it is, so a republish writes
nothing; a row of a tenant the API does not know is counted and skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from api.audit.service import AuditContext
from api.core.migrate import database_at_head
from api.core.published_rows import RowShape, typed_row, utc_instant
from api.onboarding.models import OnboardingCohort
from api.onboarding.service import record_witnessed
from api.onboarding.steps import FIRST_SETTLEMENT_COMPLETED
from api.tenants.models import Tenant

PIPELINE_REQUEST_ID = "pipeline:onboarding"


@dataclass(frozen=True)
class FirstSettlementsResult:
    recorded: int = 0
    unchanged: int = 0
    unknown_tenants: int = 0


def _typed(row: Mapping[str, Any], index: int) -> tuple[str, datetime]:
    tenant_id, at = row.get("tenant_id"), row.get("first_settlement_completed_at")
    if not isinstance(tenant_id, str) or not tenant_id:
        raise ValueError(f"row {index}: tenant_id must be text, got {tenant_id!r}")
    if hasattr(at, "to_pydatetime"):  # a pandas Timestamp
        at = at.to_pydatetime()
    if not isinstance(at, datetime):
        raise ValueError(f"row {index}: first_settlement_completed_at must be a timestamp, got {at!r}")
    # The warehouse's timestamps are naive and hold UTC.
    return tenant_id, at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def publish_first_settlements(
    database_url: str, rows: list[Mapping[str, Any]], *, published_at: datetime
) -> FirstSettlementsResult:
    """Record each tenant's first settlement once (see module docstring), in one transaction; rows are
    typed before the database is opened, and an API database not at head is refused."""
    published_at = utc_instant(published_at)
    typed = [_typed(row, index) for index, row in enumerate(rows)]
    counts = {"recorded": 0, "unchanged": 0, "unknown_tenants": 0}
    with database_at_head(database_url) as database, database.transaction() as session:
        for tenant_id, at in sorted(typed):
            if session.get(Tenant, tenant_id) is None:
                counts["unknown_tenants"] += 1
                continue
            new = record_witnessed(
                session,
                tenant_id=tenant_id,
                event_type=FIRST_SETTLEMENT_COMPLETED,
                at=at,
                received_at=published_at,
                context=AuditContext(tenant_id, None, PIPELINE_REQUEST_ID),
            )
            counts["recorded" if new else "unchanged"] += 1
    return FirstSettlementsResult(**counts)


COHORT_KEY = ("cohort_grain", "cohort", "step")
COHORT_SHAPE = RowShape(
    required_text=COHORT_KEY,
    required_int=("step_order", "cohort_tenants", "reached_tenants"),
    optional_int=("previous_reached_tenants", "conversion_bps", "drop_off_bps",
                  "median_seconds_to_first_settlement", "p90_seconds_to_first_settlement"),
)  # fmt: skip


@dataclass(frozen=True)
class CohortsResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0


def _cohort_row(row: Mapping[str, Any], index: int) -> dict[str, Any]:
    typed = typed_row(row, COHORT_SHAPE, index)
    shareable = row.get("is_shareable")
    if not isinstance(shareable, bool) and type(shareable).__name__ != "bool_":  # numpy's bool too
        raise ValueError(f"row {index}: is_shareable must be a boolean, got {shareable!r}")
    return typed | {"is_shareable": bool(shareable)}


def publish_cohorts(
    database_url: str, rows: list[Mapping[str, Any]], *, published_at: datetime
) -> CohortsResult:
    """`rows` is the whole of marts.fct_onboarding_cohorts: new rows are inserted, changed ones updated,
    rows gone from the mart deleted (a cohort is an aggregate, nothing hangs on it), identical ones left
    untouched (a republish writes nothing, `published_at` is when a row last changed)."""
    published_at = utc_instant(published_at)
    typed = {
        tuple(row[k] for k in COHORT_KEY): row for row in (_cohort_row(r, i) for i, r in enumerate(rows))
    }
    counts = {"inserted": 0, "updated": 0, "unchanged": 0, "removed": 0}
    with database_at_head(database_url) as database, database.transaction() as session:
        existing = {(c.cohort_grain, c.cohort, c.step): c for c in session.scalars(select(OnboardingCohort))}
        for key in sorted(existing.keys() - typed.keys()):
            session.delete(existing[key])
            counts["removed"] += 1
        for key in sorted(typed):
            row, stored = typed[key], existing.get(key)
            if stored is None:
                session.add(OnboardingCohort(**row, published_at=published_at))
                counts["inserted"] += 1
            elif any(getattr(stored, column) != value for column, value in row.items()):
                for column, value in row.items():
                    setattr(stored, column, value)
                stored.published_at = published_at
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
    return CohortsResult(**counts)
