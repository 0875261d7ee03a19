"""Two verdicts racing on one case, against a real uvicorn server: one wins, the other is a 409."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx

from api.arbitration.publish import publish_settlements
from api.core.database import utc_now
from tests.api.arbitration_kit import VERDICT, settlement_row
from tests.api.factories import Factory, auth


def test_two_concurrent_verdicts_one_wins(live_server: str, token: str, factory: Factory) -> None:
    now = utc_now()
    publish_settlements(factory.database_url, [settlement_row("acme", n, resolved_at=now - timedelta(days=1))
                                               for n in range(1, 4)], published_at=now)  # fmt: skip
    for n in range(1, 4):  # a few rounds, so a lucky interleaving cannot hide a double verdict
        opened = httpx.post(
            f"{live_server}/ops/settlements/setl_run_{n}/disputes", json={}, headers=auth(token)
        )
        assert opened.status_code == 201, opened.text
        case = httpx.post(f"{live_server}/ops/arbitration/cases", headers=auth(token),
                          json={"settlement_id": f"setl_run_{n}", "arbiter_agent_id": "agt_arb"}).json()["case"]  # fmt: skip
        barrier, results = threading.Barrier(2), []

        def send(rate: int, case_id: str = case["case_id"], barrier: threading.Barrier = barrier,
                 results: list = results) -> None:  # fmt: skip
            barrier.wait()
            body = {**VERDICT, "release_rate_pct": rate}
            results.append(httpx.post(f"{live_server}/ops/arbitration/cases/{case_id}/verdict", json=body,
                                      headers=auth(token), timeout=30))  # fmt: skip

        threads = [threading.Thread(target=send, args=(rate,)) for rate in (10, 90)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
        loser = next(r for r in results if r.status_code == 409).json()
        assert loser["code"] in ("TRANSITION_ILLEGAL", "REVISION_CONFLICT")
        winner = next(r for r in results if r.status_code == 200).json()["case"]
        stored = httpx.get(
            f"{live_server}/ops/arbitration/cases/{case['case_id']}", headers=auth(token)
        ).json()
        assert stored["case"]["verdict"] == winner["verdict"] and stored["case"]["revision"] == 2
