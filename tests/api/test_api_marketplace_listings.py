"""Capability listings: validation, immutable revisions, partial update, search with keyset pages, retire."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from tests.api.factories import Factory
from tests.api.marketplace_kit import LISTING, Market, market


@pytest.fixture
def mk(factory: Factory) -> Iterator[Market]:
    with market(factory) as harness:
        yield harness


def test_a_listing_change_is_a_new_immutable_revision(mk: Market) -> None:
    first = mk.created("/listings", LISTING)["listing"]
    assert first["revision"] == 1 and first["sla"] == {"response_hours": 4, "completion_hours": 48}
    patched = mk.request(
        "PATCH", "/listings/caplst_translate", {"title": "EN->DE legal"}, **{"If-Match": '"1"'}
    )
    assert patched.status_code == 200, patched.text
    now = patched.json()["listing"]
    assert now["revision"] == 2 and now["title"] == "EN->DE legal"
    assert now["tags"] == LISTING["tags"] and now["price_model"]["amount_cents"] == 2000  # omitted: kept
    old = mk.get("/listings/caplst_translate", revision=1).json()["listing"]
    assert old == {**first, "updated_at": old["updated_at"]} and old["title"] == "EN->DE translation"
    history = mk.get("/listings/caplst_translate/revisions").json()
    assert [r["revision"] for r in history] == [1, 2] and history[0]["content_hash"] == first["content_hash"]
    same = mk.request("PATCH", "/listings/caplst_translate", {"title": "EN->DE legal"})
    assert same.json()["changed"] is False and same.json()["listing"]["revision"] == 2
    stale = mk.request("PATCH", "/listings/caplst_translate", {"title": "x"}, **{"If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json()["code"] == "REVISION_CONFLICT"
    missing = mk.get("/listings/caplst_translate", revision=3)
    assert missing.status_code == 404 and missing.json()["code"] == "LISTING_REVISION_NOT_FOUND"


def test_retire_is_a_revision_and_freezes_the_listing(mk: Market) -> None:
    mk.created("/listings", LISTING)
    retired = mk.request("DELETE", "/listings/caplst_translate", **{"Idempotency-Key": "retire-1"})
    assert retired.status_code == 200 and retired.json()["listing"]["status"] == "retired"
    replay = mk.request("DELETE", "/listings/caplst_translate", **{"Idempotency-Key": "retire-1"})
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json() == retired.json()
    assert mk.request("DELETE", "/listings/caplst_translate").json()["changed"] is False
    frozen = mk.request("PATCH", "/listings/caplst_translate", {"title": "again"})
    assert frozen.status_code == 409 and frozen.json()["code"] == "LISTING_RETIRED"
    assert mk.get("/listings/caplst_translate", revision=1).json()["listing"]["status"] == "active"
    rfq = mk.post("/rfqs", {"listing_id": "caplst_translate", "poster_agent_id": "agt_p", "budget_cents": 10,
                            "currency": "USD", "deadline_at": "2026-12-01T00:00:00Z"})  # fmt: skip
    assert rfq.status_code == 409 and rfq.json()["code"] == "LISTING_NOT_ACTIVE"


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"availability": {"timezone": "Mars/Olympus", "windows": []}}, "timezone"),
        ({"availability": {"timezone": "Europe/Berlin", "windows": [
            {"day": "mon", "start": "09:00", "end": "12:00"}, {"day": "mon", "start": "11:00", "end": "13:00"}]}},
         "availability"),
        ({"availability": {"timezone": "UTC", "windows": [{"day": "tue", "start": "12:00", "end": "09:00"}]}},
         "windows"),
        ({"price_model": {"mode": "quote", "min_amount_cents": 500, "max_amount_cents": 100, "currency": "USD"}},
         "price_model"),
        ({"price_model": {"mode": "hourly", "currency": "USD"}}, "price_model"),
        ({"sla": {"response_hours": 10, "completion_hours": 2}}, "sla"),
        ({"tags": ["a", "a"]}, "tags"),
    ],
)  # fmt: skip
def test_invalid_listings_are_422_naming_the_place(mk: Market, change: dict, location: str) -> None:
    answer = mk.post("/listings", {**copy.deepcopy(LISTING), **change})
    assert answer.status_code == 422, answer.text
    assert any(location in map(str, error["loc"]) for error in answer.json()["errors"]), answer.json()


def test_search_filters_and_pages_with_a_keyset_cursor(mk: Market) -> None:
    for n in range(5):
        body = {**LISTING, "listing_id": f"caplst_{n}", "capability": "ocr" if n % 2 else "translation",
                "tags": [f"tag{n}"], "seller_agent_id": f"agt_s{n % 2}"}  # fmt: skip
        mk.created("/listings", body)
        mk.tick(__import__("datetime").timedelta(minutes=1))
    page = mk.get("/listings", limit=2).json()
    assert page["count"] == 5 and [i["listing_id"] for i in page["items"]] == ["caplst_4", "caplst_3"]
    rest = mk.get("/listings", limit=10, cursor=page["next_cursor"]).json()
    assert [i["listing_id"] for i in rest["items"]] == ["caplst_2", "caplst_1", "caplst_0"]
    assert rest["next_cursor"] is None
    assert [i["listing_id"] for i in mk.get("/listings", q="TAG3").json()["items"]] == ["caplst_3"]
    assert mk.get("/listings", capability="ocr", seller_agent_id="agt_s1").json()["count"] == 2
    mk.request("PATCH", "/listings/caplst_0", {"status": "paused"})
    assert [i["listing_id"] for i in mk.get("/listings", status="paused").json()["items"]] == ["caplst_0"]
    assert mk.get("/listings", q="%").json()["count"] == 0  # a LIKE wildcard is a literal


@pytest.mark.parametrize("field", ["capability", "status", "price_model"])
def test_a_patch_that_nulls_a_required_field_is_422_and_changes_nothing(mk: Market, field: str) -> None:
    # Found by schemathesis: `{"status": null}` was a 500 (ListingStatus(None)).
    first = mk.created("/listings", LISTING)["listing"]
    answer = mk.request("PATCH", "/listings/caplst_translate", {field: None})
    assert answer.status_code == 422, answer.text
    assert any(field in map(str, error["loc"]) for error in answer.json()["errors"]), answer.json()
    assert mk.get("/listings/caplst_translate").json()["listing"] == first
