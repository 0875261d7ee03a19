"""A harness for the marketplace tests: an app with a fixed, movable clock and the requests a trade is made of."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from api.core.settings import ApiSettings
from api.main import create_app
from tests.api.factories import Factory, auth

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WRITER = ("finance_read", "finance_write", "ops_read")
M = "/v1/marketplace"
LISTING = {
    "listing_id": "caplst_translate", "capability": "translation", "title": "EN->DE translation",
    "description": "Legal texts", "category": "language", "seller_agent_id": "agt_seller",
    "tags": ["legal", "german"],
    "price_model": {"mode": "fixed", "amount_cents": 2000, "currency": "USD"},
    "availability": {"timezone": "Europe/Berlin",
                     "windows": [{"day": "mon", "start": "09:00", "end": "12:00"},
                                 {"day": "mon", "start": "13:00", "end": "17:00"}]},
    "sla": {"response_hours": 4, "completion_hours": 48},
}  # fmt: skip


def rfq_body(**overrides: Any) -> dict[str, Any]:
    return {"rfq_id": "rfq_1", "capability": "translation", "title": "Translate a contract",
            "poster_agent_id": "agt_poster", "budget_cents": 2500, "currency": "USD",
            "deadline_at": (T0 + timedelta(days=2)).isoformat(), **overrides}  # fmt: skip


def bid_body(bid_id: str, amount: int, **overrides: Any) -> dict[str, Any]:
    return {"bid_id": bid_id, "bidder_agent_id": f"agt_{bid_id}", "amount_cents": amount, "currency": "USD",
            "eta_seconds": 3600, **overrides}  # fmt: skip


@dataclass
class Market:
    client: TestClient
    factory: Factory
    token: str
    now: list[datetime] = field(default_factory=lambda: [T0])

    def tick(self, delta: timedelta) -> datetime:
        self.now[0] += delta
        return self.now[0]

    def request(self, method: str, path: str, body: dict[str, Any] | None = None, *, token: str | None = None,
                **headers: str) -> httpx.Response:  # fmt: skip
        return self.client.request(method, M + path, json=body, headers=auth(token or self.token, **headers))

    def post(self, path: str, body: dict[str, Any], **headers: str) -> httpx.Response:
        return self.request("POST", path, body, **headers)

    def get(self, path: str, *, token: str | None = None, **params: Any) -> httpx.Response:
        return self.client.get(M + path, params=params, headers=auth(token or self.token))

    def created(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.post(path, body)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def rfq_with_bids(self, *amounts: int, **rfq: Any) -> list[str]:
        self.created("/rfqs", rfq_body(**rfq))
        ids = [f"bid_{amount}" for amount in amounts]
        for bid_id, amount in zip(ids, amounts, strict=True):
            self.created(f"/rfqs/{rfq_body(**rfq)['rfq_id']}/bids", bid_body(bid_id, amount))
        return ids


@contextmanager
def market(factory: Factory) -> Iterator[Market]:
    app = create_app(ApiSettings(database_url=factory.database_url))
    now = [T0]
    app.state.clock = lambda: now[0]
    with TestClient(app) as client:
        yield Market(client=client, factory=factory, token=factory.key("acme", *WRITER), now=now)


# For the tenant-isolation walk (tests/api/test_api_tenant_isolation.py): providers of the marketplace
# routes' path parameters and their bodies, registered there as the arbitration ones are.
MARKET_ISOLATION_BODIES: dict[str, dict[str, Any]] = {
    f"PATCH {M}/listings/{{listing_id}}": {"title": "intruder"},
    f"POST {M}/rfqs/{{rfq_id}}/bids": bid_body("bid_intruder", 1),
    f"POST {M}/rfqs/{{rfq_id}}/bids/{{bid_id}}/counter-offers": {
        "proposer_role": "poster", "proposer_agent_id": "agt_poster", "amount_cents": 1},
    f"POST {M}/rfqs/{{rfq_id}}/accept": {"bid_id": "bid_victim"},
}  # fmt: skip


def _victim_market(victim: Any) -> dict[str, str]:
    """The victim's listing, an open RFQ on it with a bid, and an agreement (another RFQ, accepted)."""
    if "marketplace" not in victim.made:
        victim.client.app.state.clock = lambda: T0
        headers = auth(victim.token)
        made = {"listing_id": LISTING["listing_id"], "rfq_id": "rfq_victim", "bid_id": "bid_victim"}
        for path, body in ((f"{M}/listings", LISTING),
                           (f"{M}/rfqs", rfq_body(rfq_id="rfq_victim")),
                           (f"{M}/rfqs/rfq_victim/bids", bid_body("bid_victim", 1900))):  # fmt: skip
            answer = victim.client.post(path, json=body, headers=headers)
            assert answer.status_code == 201, answer.text
        made["agreement_id"] = accepted(victim.client, victim.factory, victim.token, "globex")["agreement_id"]
        victim.made["marketplace"] = json.dumps(made)
    return json.loads(victim.made["marketplace"])


def market_isolation_providers(provider: Any) -> dict[str, Any]:
    """`{parameter: provider(make, absent)}` for listing_id, rfq_id and bid_id."""
    return {
        name: provider(lambda v, name=name: _victim_market(v)[name], absent)
        for name, absent in (
            ("listing_id", "caplst_absent"),
            ("rfq_id", "rfq_absent"),
            ("bid_id", "bid_absent"),
            ("agreement_id", "agr_absent"),
        )
    }


def accepted(client: TestClient, factory: Factory, token: str, tenant_id: str) -> dict[str, Any]:
    """An RFQ `rfq_done` with two bids, the cheaper accepted under a registered policy: the agreement."""
    from tests.api.policies_kit import register

    register(factory, tenant_id, "pol.market")
    for path, body in ((f"{M}/rfqs", rfq_body(rfq_id="rfq_done", deadline_at="2099-01-01T00:00:00Z")),
                       (f"{M}/rfqs/rfq_done/bids", bid_body("bid_done_a", 2200)),
                       (f"{M}/rfqs/rfq_done/bids", bid_body("bid_done_b", 1900))):  # fmt: skip
        answer = client.post(path, json=body, headers=auth(token))
        assert answer.status_code == 201, answer.text
    answer = client.post(f"{M}/rfqs/rfq_done/accept", json={"bid_id": "bid_done_b"}, headers=auth(token))
    assert answer.status_code == 200, answer.text
    return answer.json()["agreement"]
