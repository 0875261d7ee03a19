"""The policies and marketplace workspaces and the queue tables over plain HTTP (cheap): no page without a
session, CSRF on the new forms, one tenant per session, a concurrent change as a message, and the tables'
filters, sort and cursor (both ways) being the API's own."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.console_kit import (
    POLICY,
    World,
    console_world,
    csrf_of,
    open_cases,
    seed_market,
    seed_policies,
    signed_in,
)

pytestmark = pytest.mark.xdist_group("console-workspaces")
POLICIES = "/v1/tenants/acme/settlement-policies"


@pytest.fixture(scope="module")
def world(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with console_world(sqlite_template, tmp_path_factory.mktemp("console-workspaces")) as shared:
        seed_policies(shared)
        seed_market(shared)
        yield shared


def link(page: str, testid: str) -> str | None:
    found = re.search(rf'href="([^"]+)" data-testid="{testid}"', page)
    return html.unescape(found.group(1)) if found else None


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/console/policies"), ("POST", "/console/policies/rollback"), ("GET", "/console/marketplace"),
     ("GET", "/console/marketplace/rfqs"), ("GET", "/console/marketplace/rfqs/rfq_manual"),
     ("GET", "/console/marketplace/listings/lst_translate"), ("POST", "/console/marketplace/rfqs/rfq_manual/accept"),
     ("GET", "/console/marketplace/agreements/agr_x"), ("GET", "/console/marketplace/rfqs/rfq_manual/accept"),
     ("GET", "/console/arbitration")],
)  # fmt: skip
def test_no_new_page_without_a_session(world: World, method: str, path: str) -> None:
    answer = httpx.request(method, world.base_url + path, data={"csrf": "x"} if method == "POST" else None)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in"


def test_the_new_forms_refuse_a_missing_or_forged_csrf_token(world: World) -> None:
    client = signed_in(world)
    revision = world.api().get(f"{POLICIES}/state").json()["revision"]
    for data in ({}, {"csrf": "forged"}):
        rollback = client.post("/console/policies/rollback", data={**data, "revision": str(revision)})
        accept = client.post("/console/marketplace/rfqs/rfq_manual/accept",
                             data={**data, "revision": "1", "bid_id": "bid_agt_b"})  # fmt: skip
        assert (rollback.status_code, accept.status_code) == (403, 403)
        assert "CONSOLE_CSRF_REFUSED" in rollback.text and "CONSOLE_CSRF_REFUSED" in accept.text
    assert world.api().get(f"{POLICIES}/state").json()["revision"] == revision
    assert world.api().get("/v1/marketplace/rfqs/rfq_manual").json()["rfq"]["status"] == "open"


def test_a_session_sees_nothing_of_another_tenant_on_the_new_pages(world: World) -> None:
    acme = signed_in(world)
    policies = acme.get("/console/policies")
    assert (
        policies.status_code == 200 and POLICY in policies.text and "rival.secret-policy" not in policies.text
    )
    diff = acme.get("/console/policies", params={"from": f"{POLICY}@1", "to": "rival.secret-policy@1"})
    assert diff.status_code == 404 and "TO_POLICY_NOT_FOUND" in diff.text
    rfqs = acme.get("/console/marketplace/rfqs")
    assert "rfq_manual" in rfqs.text and "rfq_rival_secret" not in rfqs.text
    for path in (
        "/console/marketplace/rfqs/rfq_rival_secret",
        "/console/marketplace/rfqs/rfq_rival_secret/accept?bid_id=x",
    ):
        assert acme.get(path).status_code == 404
    rival = signed_in(world, world.rival_token)
    assert rival.get("/console/marketplace/rfqs/rfq_manual").status_code == 404
    assert rival.get("/console/marketplace/listings/lst_translate").status_code == 404
    page = rival.get("/console/policies")
    assert POLICY not in page.text and "rival.secret-policy" in page.text
    answer = rival.post("/console/marketplace/rfqs/rfq_manual/accept",
                        data={"csrf": csrf_of(page.text), "revision": "1", "bid_id": "bid_agt_b"})  # fmt: skip
    assert answer.status_code == 404 and "RFQ_NOT_FOUND" in answer.text
    assert world.api().get("/v1/marketplace/rfqs/rfq_manual").json()["rfq"]["status"] == "open"


def test_a_stale_rollback_is_a_conflict_message_and_changes_nothing(world: World) -> None:
    client = signed_in(world)
    page = client.get("/console/policies")
    shown = int(re.search(r'name="revision" value="(\d+)"', page.text).group(1))
    state = world.api().get(f"{POLICIES}/state").json()
    assert shown == state["revision"] and f"{state['stages']['canary']['rollout_percent']} %" in page.text
    moved = world.api().post(f"{POLICIES}/rollout", headers={"If-Match": f'"{shown}"'},
                             json={"stage": "draft", "policy_ref": {"policy_id": POLICY, "policy_version": 1}})  # fmt: skip
    assert moved.status_code == 200, moved.text
    answer = client.post("/console/policies/rollback", data={"csrf": csrf_of(page.text), "revision": str(shown),
                                                             "idempotency_key": "stale-rollback"})  # fmt: skip
    after = client.get(answer.headers["location"])
    assert "REVISION_CONFLICT" in after.text and 'role="alert"' in after.text
    assert world.api().get(f"{POLICIES}/state").json()["stages"]["active"]["policy_version"] == 2


def test_a_read_only_key_sees_no_rollback_or_accept_and_the_server_rechecks(world: World) -> None:
    reader = signed_in(world, world.read_token)
    page = reader.get("/console/policies")
    assert page.status_code == 200 and 'action="/console/policies/rollback"' not in page.text
    rfq = reader.get("/console/marketplace/rfqs/rfq_manual")
    assert "Accept…" not in rfq.text
    assert reader.get("/console/marketplace/rfqs/rfq_manual/accept?bid_id=bid_agt_b").status_code == 403
    answer = reader.post("/console/policies/rollback", data={"csrf": csrf_of(page.text), "revision": "0"})
    assert answer.status_code == 403 and "SCOPE_FORBIDDEN" in answer.text


def test_bids_are_listed_cheapest_first_and_listings_show_their_revisions(world: World) -> None:
    client = signed_in(world)
    page = client.get("/console/marketplace/rfqs/rfq_manual")
    shown = re.findall(r'data-bid-id="([^"]+)"', page.text)
    api = world.api().get("/v1/marketplace/rfqs/rfq_manual/bids").json()
    assert shown == [bid["bid_id"] for bid in api["items"]] == ["bid_agt_b", "bid_agt_c", "bid_agt_a"]
    listing = client.get("/console/marketplace/listings/lst_translate")
    revisions = world.api().get("/v1/marketplace/listings/lst_translate/revisions").json()
    assert re.findall(r'data-revision="(\d+)"', listing.text) == [
        str(r["revision"]) for r in reversed(revisions)
    ]
    assert "German to English, reviewed" in listing.text


def test_the_listing_tables_filter_and_page_both_ways_by_the_apis_cursor(world: World) -> None:
    client = signed_in(world)
    filtered = client.get("/console/marketplace/rfqs", params={"status": "open"})
    assert "rfq_manual" in filtered.text
    assert "rfq_manual" not in client.get("/console/marketplace/rfqs", params={"status": "expired"}).text
    assert client.get("/console/marketplace", params={"status": "exploded"}).status_code == 422
    first = client.get("/console/marketplace/rfqs/rfq_manual", params={"limit": 1})
    pages, url = [first.text], link(first.text, "next")
    while url:
        pages.append(client.get(url).text)
        url = link(pages[-1], "next")
    walked = [re.findall(r'data-bid-id="([^"]+)"', text) for text in pages]
    assert walked == [["bid_agt_b"], ["bid_agt_c"], ["bid_agt_a"]]
    back = client.get(link(pages[2], "previous")).text
    assert re.findall(r'data-bid-id="([^"]+)"', back) == ["bid_agt_c"]
    assert re.findall(r'data-bid-id="([^"]+)"', client.get(link(back, "previous")).text) == ["bid_agt_b"]
    assert link(pages[0], "previous") is None and link(pages[2], "next") is None


def rows_of(text: str) -> list[str]:
    return re.findall(r'data-triage-key="([^"]+)"', text)


@pytest.mark.parametrize("sort", ["severity", "oldest", "newest", "delta"])
def test_the_mismatch_queue_sorts_by_the_apis_sort_and_pages_both_ways(world: World, sort: str) -> None:
    client = signed_in(world)
    params = {"period": "2026-10", "sort": sort}
    api = world.api().get("/ops/finance/reconciliation/queue", params={**params, "limit": 500}).json()
    expected = [item["triage_key"] for item in api["items"]]
    pages, url = [], f"/console/reconciliation?period=2026-10&sort={sort}&limit=3"
    while url:
        pages.append(client.get(url).text)
        url = link(pages[-1], "next")
    assert [key for text in pages for key in rows_of(text)] == expected and len(pages) == 2
    assert rows_of(client.get(link(pages[1], "previous")).text) == rows_of(pages[0])
    if sort == "delta":
        deltas = [abs(item["amount_delta_cents"] or 0) for item in api["items"]]
        assert deltas == sorted(deltas, reverse=True)


def test_the_queue_filters_are_the_apis_and_a_cursor_keeps_to_its_own_order(world: World) -> None:
    client = signed_in(world)
    page = client.get("/console/reconciliation", params={"period": "2026-10", "provider_id": "wise"})
    assert rows_of(page.text) == [world.triage_key("acme", "po_104")]
    first = client.get("/console/reconciliation", params={"period": "2026-10", "limit": 1, "sort": "delta"})
    cursor = re.search(r"cursor=([A-Za-z0-9_-]+)", link(first.text, "next")).group(1)
    other = client.get(
        "/console/reconciliation", params={"period": "2026-10", "sort": "oldest", "cursor": cursor}
    )
    assert other.status_code == 422 and "CURSOR_INVALID" in other.text  # the API's own refusal
    resort = html.unescape(re.search(r'href="([^"]+)" data-sort="oldest"', first.text).group(1))
    assert "cursor" not in resort and "sort=oldest" in resort and "period=2026-10" in resort


def test_the_arbitration_queue_pages_both_ways(world: World) -> None:
    open_cases(world)
    client = signed_in(world)
    listed = [item["case_id"] for item in world.api().get("/ops/arbitration/queue").json()["queue"]]
    first = client.get("/console/arbitration", params={"limit": 1})
    second = client.get(link(first.text, "next"))
    shown = [re.findall(r'data-case-id="([^"]+)"', text) for text in (first.text, second.text)]
    assert shown == [[listed[0]], [listed[1]]]
    back = client.get(link(second.text, "previous"))
    assert re.findall(r'data-case-id="([^"]+)"', back.text) == [listed[0]]
    filtered = client.get("/console/arbitration", params={"status": "closed"})
    assert re.findall(r'data-case-id="([^"]+)"', filtered.text) == []


def test_the_script_is_served_from_the_console_and_the_csp_allows_nothing_inline(world: World) -> None:
    script = httpx.get(world.base_url + "/console/static/console.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    page = signed_in(world).get("/console/policies")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "connect-src 'self';" in policy and "unsafe" not in policy
    assert '<script src="/console/static/console.js" defer></script>' in page.text
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page.text) == []  # no inline script
