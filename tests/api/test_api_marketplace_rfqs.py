"""RFQs, bids and counter-offers: mismatch codes naming the field, lazy expiry, the negotiation's bounds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.api.factories import Factory
from tests.api.marketplace_kit import LISTING, Market, bid_body, market, rfq_body


@pytest.fixture
def mk(factory: Factory) -> Iterator[Market]:
    with market(factory) as harness:
        yield harness


def test_an_rfq_on_a_listing_pins_its_revision_and_currency(mk: Market) -> None:
    mk.created("/listings", LISTING)
    mk.request("PATCH", "/listings/caplst_translate", {"title": "v2"})
    rfq = mk.created("/rfqs", rfq_body(capability=None, listing_id="caplst_translate"))["rfq"]
    assert (rfq["listing_revision"], rfq["capability"], rfq["status"]) == (2, "translation", "open")
    euro = mk.post(
        "/rfqs", rfq_body(rfq_id="rfq_eur", capability=None, listing_id="caplst_translate", currency="EUR")
    )
    assert euro.status_code == 409 and euro.json()["code"] == "CURRENCY_MISMATCH"
    assert euro.json()["field"] == "currency"
    nothing = mk.post("/rfqs", rfq_body(rfq_id="rfq_x", capability=None))
    assert nothing.status_code == 422 and nothing.json()["code"] == "RFQ_TARGET_REQUIRED"
    past = mk.post("/rfqs", rfq_body(rfq_id="rfq_y", deadline_at="2026-11-01T00:00:00Z"))
    assert past.status_code == 422 and past.json()["code"] == "DEADLINE_IN_PAST"


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"currency": "EUR"}, "CURRENCY_MISMATCH", "currency"),
        ({"from_type": "human"}, "DIRECTION_MISMATCH", "from_type"),
        ({"to_type": "human"}, "DIRECTION_MISMATCH", "to_type"),
    ],
)
def test_a_bid_must_match_the_rfqs_currency_and_direction(
    mk: Market, change: dict, code: str, field: str
) -> None:
    mk.created("/rfqs", rfq_body())
    answer = mk.post("/rfqs/rfq_1/bids", bid_body("bid_a", 2000, **change))
    assert answer.status_code == 409 and answer.json()["code"] == code
    assert answer.json()["field"] == field and answer.json()["expected"] in ("USD", "agent")
    assert mk.get("/rfqs/rfq_1/bids").json()["count"] == 0


def test_an_expired_rfq_refuses_bids_and_reads_as_expired(mk: Market) -> None:
    mk.created("/rfqs", rfq_body())
    mk.created("/rfqs/rfq_1/bids", bid_body("bid_a", 2000))
    mk.tick(timedelta(days=2))  # the deadline itself: no longer open
    assert mk.get("/rfqs/rfq_1").json()["rfq"]["status"] == "expired"
    assert mk.get("/rfqs", status="expired").json()["count"] == 1
    assert mk.get("/rfqs", status="open").json()["count"] == 0
    late = mk.post("/rfqs/rfq_1/bids", bid_body("bid_b", 1500))
    assert late.status_code == 409 and late.json()["code"] == "RFQ_NOT_OPEN"
    assert late.json()["rfq_status"] == "expired"


def test_bids_list_cheapest_first_and_the_poster_cannot_bid(mk: Market) -> None:
    mk.created("/rfqs", rfq_body())
    for bid_id, amount in (("bid_a", 2200), ("bid_b", 1900), ("bid_c", 2100)):
        mk.created("/rfqs/rfq_1/bids", bid_body(bid_id, amount))
    page = mk.get("/rfqs/rfq_1/bids", limit=2).json()
    assert [b["bid_id"] for b in page["items"]] == ["bid_b", "bid_c"] and page["count"] == 3
    rest = mk.get("/rfqs/rfq_1/bids", cursor=page["next_cursor"]).json()
    assert [b["bid_id"] for b in rest["items"]] == ["bid_a"]
    own = mk.post("/rfqs/rfq_1/bids", bid_body("bid_own", 100, bidder_agent_id="agt_poster"))
    assert own.status_code == 409 and own.json()["code"] == "BIDDER_IS_POSTER"
    assert mk.get("/rfqs/rfq_nope/bids").status_code == 404


def _counter(mk: Market, role: str, amount: int, **headers: str):  # noqa: ANN202
    agent = "agt_poster" if role == "poster" else "agt_bid_a"
    return mk.post("/rfqs/rfq_1/bids/bid_a/counter-offers",
                   {"proposer_role": role, "proposer_agent_id": agent, "amount_cents": amount}, **headers)  # fmt: skip


def test_counter_offers_alternate_within_the_rfqs_policy(mk: Market) -> None:
    mk.created(
        "/rfqs", rfq_body(counter_offer_policy={"max_rounds": 2, "allowed_roles": ["poster", "bidder"]})
    )
    mk.created("/rfqs/rfq_1/bids", bid_body("bid_a", 2400))
    out_of_turn = _counter(mk, "bidder", 2300)
    assert out_of_turn.status_code == 409 and out_of_turn.json()["code"] == "COUNTER_OFFER_OUT_OF_TURN"
    first = _counter(mk, "poster", 2000, **{"If-Match": '"1"'})
    assert first.status_code == 201, first.text
    assert first.json()["bid"]["amount_cents"] == 2000 and first.json()["bid"]["negotiation_round"] == 2
    stale = _counter(mk, "bidder", 2200, **{"If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json()["code"] == "REVISION_CONFLICT"
    assert _counter(mk, "bidder", 2200).status_code == 201
    limit = _counter(mk, "poster", 2100)
    assert limit.status_code == 409 and limit.json()["code"] == "COUNTER_OFFER_LIMIT_REACHED"
    assert limit.json()["max_rounds"] == 2
    chain = mk.get("/rfqs/rfq_1/bids/bid_a/counter-offers").json()["proposals"]
    assert [(p["round"], p["proposer_role"], p["amount_cents"]) for p in chain] == [
        (1, "bidder", 2400), (2, "poster", 2000), (3, "bidder", 2200)]  # fmt: skip
    assert len({p["proposal_hash"] for p in chain}) == 3


def test_a_party_the_policy_excludes_cannot_counter(mk: Market) -> None:
    mk.created("/rfqs", rfq_body(counter_offer_policy={"max_rounds": 3, "allowed_roles": ["bidder"]}))
    mk.created("/rfqs/rfq_1/bids", bid_body("bid_a", 2400))
    refused = _counter(mk, "poster", 2000)
    assert refused.status_code == 409 and refused.json()["code"] == "COUNTER_OFFER_NOT_ALLOWED"
    assert refused.json()["allowed_roles"] == ["bidder"]
    impostor = mk.post("/rfqs/rfq_1/bids/bid_a/counter-offers",
                       {"proposer_role": "bidder", "proposer_agent_id": "agt_other", "amount_cents": 1})  # fmt: skip
    assert impostor.status_code == 409 and impostor.json()["code"] == "COUNTER_OFFER_NOT_ALLOWED"


def test_expire_overdue_rfqs_stores_every_due_expiry(mk: Market) -> None:
    from api.marketplace.service import expire_overdue_rfqs

    mk.created("/rfqs", rfq_body())
    mk.created("/rfqs", rfq_body(rfq_id="rfq_later", deadline_at=(mk.now[0] + timedelta(days=9)).isoformat()))
    with mk.factory.transaction() as session:
        assert expire_overdue_rfqs(session, now=mk.now[0] + timedelta(days=3)) == 1
    stored = mk.get("/rfqs/rfq_1").json()["rfq"]
    assert (stored["status"], stored["revision"]) == ("expired", 2)
    assert mk.get("/rfqs/rfq_later").json()["rfq"]["status"] == "open"
