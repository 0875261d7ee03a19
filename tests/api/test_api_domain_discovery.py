"""A new API domain needs no edit to a central list: a folder with a `router.py` beside the others is
served, and its write commits through the one commit point (tests/throwaway_domains/api/probe)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import api
from api.audit.models import AuditLogEntry
from api.core.settings import ApiSettings
from api.main import create_app, domain_routers
from tests.api.factories import auth
from tests.api.test_api_patterns import count

THROWAWAY = Path(__file__).resolve().parents[1] / "throwaway_domains" / "api"


def test_every_domain_router_is_served_without_a_list() -> None:
    prefixes = {route.path.split("/")[1] for router in domain_routers() for route in router.routes}
    assert {"ops", "v1", "healthz"} <= prefixes


def test_a_throwaway_domain_is_served_and_its_write_commits(
    database_url: str, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "__path__", [*api.__path__, str(THROWAWAY)])
    app = create_app(ApiSettings(database_url=database_url))
    with TestClient(app) as client:
        first = client.post("/ops/probe/records", headers=auth(token, **{"Idempotency-Key": "probe-1"}))
        again = client.post("/ops/probe/records", headers=auth(token, **{"Idempotency-Key": "probe-1"}))
    assert first.status_code == 201, first.text
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    assert count(database_url, AuditLogEntry, action="PROBE_RECORD") == 1


def test_a_domain_with_several_routers_serves_each_of_them() -> None:
    from api.billing import router as billing

    walked = {route.path for router in domain_routers() for route in router.routes}
    served = set(create_app().openapi()["paths"])
    assert len(billing.routers) == 3
    for router in billing.routers:
        assert router.routes, router
        assert {route.path for route in router.routes} <= walked & served
