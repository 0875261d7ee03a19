"""The accept: the reference's example (bids 2200 and 1900, accept 1900), the pinned policy, 409s after it,
the bid's explicit policy reference, and two concurrent accepts on a real server (one wins), per engine."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from settld.core import canonical_hash
from tests.api.factories import Factory, auth
from tests.api.marketplace_kit import Market, bid_body, market, rfq_body
from tests.api.policies_kit import register


@pytest.fixture
def mk(factory: Factory) -> Iterator[Market]:
    with market(factory) as harness:
        yield harness


def test_the_references_accept_example(mk: Market) -> None:
    ref = register(mk.factory, "acme", "pol.standard")  # the tenant's first version: active
    mk.rfq_with_bids(2200, 1900)
    answer = mk.post("/rfqs/rfq_1/accept", {"bid_id": "bid_1900"}, **{"Idempotency-Key": "accept-1"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["rfq"]["status"] == "assigned" and body["rfq"]["accepted_bid_id"] == "bid_1900"
    assert body["accepted_bid"]["status"] == "accepted" and body["rejected_bid_ids"] == ["bid_2200"]
    agreement = body["agreement"]
    assert (agreement["amount_cents"], agreement["currency"]) == (1900, "USD")
    assert (agreement["payer_agent_id"], agreement["payee_agent_id"]) == ("agt_poster", "agt_bid_1900")
    assert agreement["policy_ref"] == ref and agreement["policy_source"] == "resolved"
    assert agreement["offer_hash"] == canonical_hash(agreement["offer"])
    assert agreement["settlement_id"] == "setl_" + agreement["run_id"] == "setl_" + body["rfq"]["run_id"]
    bids = {b["bid_id"]: b["status"] for b in mk.get("/rfqs/rfq_1/bids").json()["items"]}
    assert bids == {"bid_1900": "accepted", "bid_2200": "rejected"}
    assert mk.get(f"/agreements/{agreement['agreement_id']}").json()["agreement"] == agreement

    replay = mk.post("/rfqs/rfq_1/accept", {"bid_id": "bid_1900"}, **{"Idempotency-Key": "accept-1"})
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json() == body
    second = mk.post("/rfqs/rfq_1/accept", {"bid_id": "bid_2200"})
    assert second.status_code == 409 and second.json()["code"] == "RFQ_NOT_OPEN"
    later = mk.post("/rfqs/rfq_1/bids", bid_body("bid_late", 1000))
    assert later.status_code == 409 and later.json()["code"] == "RFQ_NOT_OPEN"
    counter = mk.post("/rfqs/rfq_1/bids/bid_2200/counter-offers",
                      {"proposer_role": "poster", "proposer_agent_id": "agt_poster", "amount_cents": 1})  # fmt: skip
    assert counter.status_code == 409 and counter.json()["code"] == "RFQ_NOT_OPEN"


def test_accept_without_an_active_policy_changes_nothing(mk: Market) -> None:
    mk.rfq_with_bids(2200, 1900)
    answer = mk.post("/rfqs/rfq_1/accept", {"bid_id": "bid_1900"})
    assert answer.status_code == 409 and answer.json()["code"] == "ACTIVE_POLICY_NOT_SET"
    assert mk.get("/rfqs/rfq_1").json()["rfq"]["status"] == "open"
    assert {b["status"] for b in mk.get("/rfqs/rfq_1/bids").json()["items"]} == {"pending"}


def test_a_bids_explicit_policy_reference_must_match_the_registry(mk: Market) -> None:
    register(mk.factory, "acme", "pol.standard")
    pinned = register(mk.factory, "acme", "pol.strict")
    mk.created("/rfqs", rfq_body())
    mk.created(
        "/rfqs/rfq_1/bids", bid_body("bid_forged", 1500, policy_ref={**pinned, "policy_hash": "f" * 64})
    )
    mk.created("/rfqs/rfq_1/bids", bid_body("bid_pinned", 1600, policy_ref=pinned))
    forged = mk.post("/rfqs/rfq_1/accept", {"bid_id": "bid_forged"})
    assert forged.status_code == 409 and forged.json()["code"] == "POLICY_REF_MISMATCH"
    assert forged.json()["expected_policy_hash"] == pinned["policy_hash"]
    done = mk.post("/rfqs/rfq_1/accept", {"bid_id": "bid_pinned"}).json()
    assert done["agreement"]["policy_ref"] == pinned and done["agreement"]["policy_source"] == "bid"
    assert done["rejected_bid_ids"] == ["bid_forged"]


def test_only_the_poster_accepts_and_a_counter_offer_is_what_is_agreed(mk: Market) -> None:
    register(mk.factory, "acme", "pol.standard")
    mk.rfq_with_bids(2400)
    mk.created("/rfqs/rfq_1/bids/bid_2400/counter-offers",
               {"proposer_role": "poster", "proposer_agent_id": "agt_poster", "amount_cents": 2100})  # fmt: skip
    other = mk.post("/rfqs/rfq_1/accept", {"bid_id": "bid_2400", "accepted_by_agent_id": "agt_someone"})
    assert other.status_code == 409 and other.json()["code"] == "ACCEPTOR_NOT_POSTER"
    agreement = mk.post("/rfqs/rfq_1/accept", {"bid_id": "bid_2400"}).json()["agreement"]
    assert agreement["amount_cents"] == 2100 and agreement["offer"]["negotiation_round"] == 2


def test_two_concurrent_accepts_exactly_one_wins(live_server: str, factory: Factory) -> None:
    register(factory, "acme", "pol.standard")
    token = factory.key("acme", "finance_read", "finance_write")
    base = f"{live_server}/v1/marketplace"
    for n in range(3):  # a few rounds, so a lucky interleaving cannot hide a double accept
        rfq_id = f"rfq_race_{n}"
        body = rfq_body(rfq_id=rfq_id, deadline_at="2099-01-01T00:00:00Z")
        assert httpx.post(f"{base}/rfqs", json=body, headers=auth(token)).status_code == 201
        for amount in (2200, 1900):
            placed = httpx.post(f"{base}/rfqs/{rfq_id}/bids", json=bid_body(f"bid_{n}_{amount}", amount),
                                headers=auth(token))  # fmt: skip
            assert placed.status_code == 201, placed.text
        barrier, results = threading.Barrier(2), []

        def send(bid_id: str, rfq_id: str = rfq_id, barrier: threading.Barrier = barrier,
                 results: list = results) -> None:  # fmt: skip
            barrier.wait()
            results.append(httpx.post(f"{base}/rfqs/{rfq_id}/accept", json={"bid_id": bid_id},
                                      headers=auth(token), timeout=30))  # fmt: skip

        threads = [threading.Thread(target=send, args=(f"bid_{n}_{a}",)) for a in (2200, 1900)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
        loser = next(r for r in results if r.status_code == 409).json()
        assert loser["code"] in ("RFQ_NOT_OPEN", "REVISION_CONFLICT")
        winner = next(r for r in results if r.status_code == 200).json()
        bids = httpx.get(f"{base}/rfqs/{rfq_id}/bids", headers=auth(token)).json()["items"]
        assert sorted(b["status"] for b in bids) == ["accepted", "rejected"]
        accepted = next(b for b in bids if b["status"] == "accepted")
        assert accepted["bid_id"] == winner["accepted_bid"]["bid_id"]
