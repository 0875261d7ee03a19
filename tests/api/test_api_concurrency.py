"""Two writers racing on one revision, against a real uvicorn server: exactly one wins."""

from __future__ import annotations

import threading

import httpx

from tests.api.factories import Factory, auth, mismatch_row

TRIAGE = "/ops/finance/reconciliation/triage"


def race(url: str, bodies: list[dict], token: str) -> list[httpx.Response]:
    barrier = threading.Barrier(len(bodies))
    results: list[httpx.Response] = []

    def send(body: dict) -> None:
        barrier.wait()
        results.append(httpx.post(url + TRIAGE, json=body, headers=auth(token), timeout=30))

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_writers_on_one_revision_one_wins(live_server: str, token: str, factory: Factory) -> None:
    row = mismatch_row("acme", "payout_race")
    factory.publish([row])
    key = row["triage_key"]
    created = httpx.post(
        live_server + TRIAGE, json={"triage_key": key, "status": "acknowledged"}, headers=auth(token)
    )
    assert created.json()["triage"]["revision"] == 1
    for round_number in range(3):  # a few rounds, so a lucky interleaving cannot hide a lost update
        current = httpx.get(f"{live_server}{TRIAGE}/{key}", headers=auth(token)).json()["triage"]["revision"]
        bodies = [
            {"triage_key": key, "notes": f"writer {n} round {round_number}", "expected_revision": current}
            for n in range(2)
        ]
        results = race(live_server, bodies, token)
        assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
        loser = next(r for r in results if r.status_code == 409).json()
        assert loser["code"] == "REVISION_CONFLICT" and loser["current_revision"] == current + 1
        winner = next(r for r in results if r.status_code == 200).json()
        detail = httpx.get(f"{live_server}{TRIAGE}/{key}", headers=auth(token)).json()["triage"]
        assert detail["revision"] == current + 1 and detail["notes"] == winner["triage"]["notes"]


def test_racing_creators_of_one_record(live_server: str, token: str, factory: Factory) -> None:
    row = mismatch_row("acme", "payout_create_race")
    factory.publish([row])
    bodies = [
        {"triage_key": row["triage_key"], "owner": f"owner{n}", "expected_revision": 0} for n in range(2)
    ]
    results = race(live_server, bodies, token)
    assert sorted(r.status_code for r in results) == [200, 409]
    assert next(r for r in results if r.status_code == 409).json()["code"] == "REVISION_CONFLICT"
