"""What the pipeline publishes for onboarding: the first settlement (once per tenant) and the cohorts
(platform ops only, through GET /ops/onboarding/cohorts)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.onboarding.publish import publish_cohorts, publish_first_settlements
from tests.api.factories import Factory, auth

T0 = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)
CHECKLIST = "/v1/tenants/acme/onboarding/checklist"
COHORTS = "/ops/onboarding/cohorts"


def cohort(grain: str, label: str, step: str, order: int, tenants: int, reached: int, **extra) -> dict:
    row = {"cohort_grain": grain, "cohort": label, "step": step, "step_order": order, "cohort_tenants": tenants,
           "reached_tenants": reached, "previous_reached_tenants": tenants, "conversion_bps": 10000,
           "drop_off_bps": 0, "is_shareable": tenants >= 3, "median_seconds_to_first_settlement": None,
           "p90_seconds_to_first_settlement": None}  # fmt: skip
    return row | extra


def test_the_first_settlement_is_recorded_once(
    client: TestClient, factory: Factory, database_url: str
) -> None:
    token = factory.key("acme", "ops_read")
    first = datetime(2026, 10, 4, 12, 30)  # naive, as the warehouse holds UTC
    rows = [{"tenant_id": "acme", "first_settlement_completed_at": first},
            {"tenant_id": "not_in_the_api", "first_settlement_completed_at": first}]  # fmt: skip
    result = publish_first_settlements(database_url, rows, published_at=T0)
    assert (result.recorded, result.unchanged, result.unknown_tenants) == (1, 0, 1)
    later = [{"tenant_id": "acme", "first_settlement_completed_at": datetime(2026, 9, 1)}]
    assert publish_first_settlements(database_url, later, published_at=T0).unchanged == 1
    steps = {s["step"]: s for s in client.get(CHECKLIST, headers=auth(token)).json()["steps"]}
    assert steps["first_settlement_completed"]["at"].startswith("2026-10-04T12:30:00")
    with pytest.raises(ValueError, match="first_settlement_completed_at"):
        publish_first_settlements(database_url, [{"tenant_id": "acme", "first_settlement_completed_at": "x"}],
                                  published_at=T0)  # fmt: skip


def test_cohorts_are_published_and_read_by_platform_keys_only(
    client: TestClient, factory: Factory, database_url: str
) -> None:
    rows = [cohort("month", "2026-11", "signup", 1, 4, 4), cohort("month", "2026-12", "signup", 1, 1, 1),
            cohort("week", "2026-11-02", "signup", 1, 4, 4)]  # fmt: skip
    result = publish_cohorts(database_url, rows, published_at=T0)
    assert (result.inserted, result.updated, result.unchanged, result.removed) == (3, 0, 0, 0)
    changed = [rows[0] | {"reached_tenants": 3, "conversion_bps": 7500}, rows[1]]
    result = publish_cohorts(database_url, changed, published_at=T0)
    assert (result.inserted, result.updated, result.unchanged, result.removed) == (0, 1, 1, 1)

    platform = factory.platform_key("ops_read")
    listed = client.get(COHORTS, headers=auth(platform)).json()
    assert [(c["cohort"], c["reached_tenants"], c["is_shareable"]) for c in listed["items"]] == [
        ("2026-12", 1, False), ("2026-11", 3, True)]  # fmt: skip
    shareable = client.get(COHORTS, params={"shareable_only": True}, headers=auth(platform)).json()
    assert [c["cohort"] for c in shareable["items"]] == ["2026-11"]
    page = client.get(COHORTS, params={"limit": 1}, headers=auth(platform)).json()
    rest = client.get(COHORTS, params={"cursor": page["next_cursor"]}, headers=auth(platform)).json()
    assert [c["cohort"] for c in page["items"] + rest["items"]] == ["2026-12", "2026-11"]
    # A tenant key, whatever its scopes, does not read cross-tenant cohorts.
    tenant = factory.key("acme", "ops_read", "ops_write", "finance_read", "finance_write")
    refused = client.get(COHORTS, headers=auth(tenant))
    assert (refused.status_code, refused.json()["code"]) == (403, "PLATFORM_KEY_REQUIRED")
