"""A harness for the arbitration tests: an app with a fixed, movable clock, published settlements and the
requests a case's life is made of."""

from __future__ import annotations

import json
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


# For the tenant-isolation walk (tests/api/test_api_tenant_isolation.py, issue 27): providers of the
# arbitration routes' path parameters and their bodies, registered there:
#     ID_PROVIDERS.update(isolation_providers(IdProvider)); BODIES.update(ISOLATION_BODIES)
# The victim's app gets a fixed clock, so its workspace reads (age_seconds) are the same before and after.
ISOLATION_BODIES: dict[str, dict[str, Any]] = {
    "POST /ops/settlements/{settlement_id}/disputes": {"dispute_id": "dsp_isolation"},
    "POST /ops/settlements/{settlement_id}/disputes/{dispute_id}/evidence": {"evidence_refs": ["ev:x"]},
    "POST /ops/settlements/{settlement_id}/disputes/{dispute_id}/escalate": {
        "escalation_level": "l2_arbiter"
    },
    "POST /ops/settlements/{settlement_id}/disputes/{dispute_id}/close": {"outcome": "accepted"},
    "POST /ops/arbitration/cases/{case_id}/assign": {"arbiter_agent_id": "agt_intruder"},
    "POST /ops/arbitration/cases/{case_id}/evidence": {"evidence_refs": ["ev:a"]},
    "POST /ops/arbitration/cases/{case_id}/verdict": VERDICT,
    "POST /ops/arbitration/cases/{case_id}/close": {"summary": "isolation walk"},
    "POST /ops/arbitration/cases/{case_id}/appeal": {"reason": "isolation walk"},
}


def _victim_chain(victim: Any) -> dict[str, str]:
    """The victim's published settlement, its open dispute and a case under review (made once)."""
    if "arbitration" not in victim.made:
        victim.client.app.state.clock = lambda: T0
        tenant = victim.token
        row = settlement_row("globex", 901)
        publish_settlements(victim.factory.database_url, [row], published_at=T0)
        opened = victim.client.post(f"/ops/settlements/{row['settlement_id']}/disputes",
                                    json={"evidence_refs": ["ev:a"]}, headers=auth(tenant))  # fmt: skip
        assert opened.status_code == 201, opened.text
        case = victim.client.post("/ops/arbitration/cases", headers=auth(tenant),
                                  json={"settlement_id": row["settlement_id"], "arbiter_agent_id": "agt_secret"})  # fmt: skip
        assert case.status_code == 201, case.text
        victim.made["arbitration"] = json.dumps({"settlement_id": row["settlement_id"],
                                                 "dispute_id": opened.json()["dispute"]["dispute_id"],
                                                 "case_id": case.json()["case"]["case_id"]})  # fmt: skip
    return json.loads(victim.made["arbitration"])


def isolation_providers(provider: Any) -> dict[str, Any]:
    """`{parameter: provider(make, absent)}` for settlement_id, dispute_id and case_id."""
    return {
        name: provider(lambda v, name=name: _victim_chain(v)[name], absent)
        for name, absent in (("settlement_id", "setl_absent"), ("dispute_id", "dsp_absent"),
                             ("case_id", "arb_case_absent"))
    }  # fmt: skip
