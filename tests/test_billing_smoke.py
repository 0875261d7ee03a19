"""`settld smoke billing` against the Stripe emulator: the API's health, checkout and portal, and a
subscription change reaching the API's plan, its usage summary and the warehouse's plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devtools.smoke import EXPECTED_PLAN, run_billing_smoke

pytestmark = [
    pytest.mark.slow,
    pytest.mark.drill,
]  # the release gate's billing smoke: CI runs it with the drills


def test_a_growth_subscription_in_the_emulator_becomes_the_tenants_plan(tmp_path: Path) -> None:
    out = tmp_path / "billing-smoke-status.json"
    document = run_billing_smoke(out)
    assert document["ok"], document["steps"]
    assert document["warehousePlan"] == EXPECTED_PLAN
    assert document["event"]["plan"] == EXPECTED_PLAN
    assert document["apiPlan"] == EXPECTED_PLAN and document["checkout"]["mode"] == "live"
    assert document["summary"]["plan"] == EXPECTED_PLAN
    assert json.loads(out.read_text()) == document
