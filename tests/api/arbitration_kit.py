"""A harness for the arbitration tests: an app with a fixed, movable clock, published settlements and the
requests a case's life is made of."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from api.arbitration.publish import publish_settlements
from api.core.settings import ApiSettings
from api.main import create_app
from tests.api.factories import Factory, auth

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WRITER = ("finance_read", "finance_write", "ops_read")


def settlement_row(tenant_id: str, n: int, *, status: str = "released", amount: int = 10_001,
                   resolved_at: datetime | None = T0 - timedelta(days=1), window_days: int = 14,
                   **overrides: Any) -> dict[str, Any]:  # fmt: skip
    released = 0 if status == "refunded" else amount if status == "released" else 0
    return {
        "tenant_id": tenant_id, "settlement_id": f"setl_run_{n}", "run_id": f"run_{n}",
        "payer_agent_id": f"agt_payer_{n}", "payee_agent_id": f"agt_payee_{n}", "status": status,
        "policy_id": "pol_standard", "policy_version": 2, "policy_hash": "h" * 64, "amount_cents": amount,
        "released_amount_cents": released, "refunded_amount_cents": amount - released if status != "locked" else 0,
        "currency": "EUR", "resolved_at": resolved_at if status != "locked" else None,
        "dispute_window_ends_at": (resolved_at + timedelta(days=window_days)) if status != "locked" else None,
        **overrides,
    }  # fmt: skip


@dataclass
class Arbitration:
    """The client, a clock the test moves, and a writer's token on `acme`."""

    client: TestClient
    factory: Factory
    token: str
    now: list[datetime] = field(default_factory=lambda: [T0])

    def tick(self, delta: timedelta) -> datetime:
        self.now[0] += delta
        return self.now[0]

    def publish(self, *rows: dict[str, Any]) -> None:
        publish_settlements(self.factory.database_url, list(rows), published_at=self.now[0])

    def post(
        self, path: str, body: dict[str, Any], *, token: str | None = None, **headers: str
    ) -> httpx.Response:
        return self.client.post(path, json=body, headers=auth(token or self.token, **headers))

    def get(self, path: str, *, token: str | None = None, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params, headers=auth(token or self.token))

    def dispute(self, n: int, **body: Any) -> dict[str, Any]:
        answer = self.post(f"/ops/settlements/setl_run_{n}/disputes",
                           {"evidence_refs": ["ev:a", "ev:b", "ev:c"], **body})  # fmt: skip
        assert answer.status_code == 201, answer.text
        return answer.json()["dispute"]

    def case(self, n: int, **body: Any) -> dict[str, Any]:
        answer = self.post("/ops/arbitration/cases", {"settlement_id": f"setl_run_{n}", **body})
        assert answer.status_code == 201, answer.text
        return answer.json()["case"]

    def act(
        self, case_id: str, action: str, body: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        return self.post(f"/ops/arbitration/cases/{case_id}/{action}", body or {}, **headers)


@contextmanager
def arbitration(factory: Factory) -> Iterator[Arbitration]:
    app = create_app(ApiSettings(database_url=factory.database_url))
    now = [T0]
    app.state.clock = lambda: now[0]
    with TestClient(app) as client:
        yield Arbitration(client=client, factory=factory, token=factory.key("acme", *WRITER), now=now)


VERDICT = {"outcome": "partial", "release_rate_pct": 33, "rationale": "Two of three milestones delivered."}


def one_of_each(client: TestClient, token: str, database_url: str) -> None:
    """A row in every arbitration table that has a status (for tests of the database's CHECKs)."""
    from api.core.database import utc_now

    now = utc_now()
    publish_settlements(database_url, [settlement_row("acme", 1, resolved_at=now - timedelta(days=1))],
                        published_at=now)  # fmt: skip
    assert (
        client.post("/ops/settlements/setl_run_1/disputes", json={}, headers=auth(token)).status_code == 201
    )
    body = {"settlement_id": "setl_run_1", "arbiter_agent_id": "agt_arb"}
    case_id = client.post("/ops/arbitration/cases", json=body, headers=auth(token)).json()["case"]["case_id"]
    for action, payload in (("verdict", VERDICT), ("close", {})):
        answer = client.post(f"/ops/arbitration/cases/{case_id}/{action}", json=payload, headers=auth(token))
        assert answer.status_code == 200, answer.text
