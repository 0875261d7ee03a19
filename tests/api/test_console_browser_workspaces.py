"""The policies and marketplace workspaces in a real browser (Debian's chromium through Playwright): diff two
policy versions and roll back; accept a bid through its confirmation and read the agreement; what each page
shows is checked against the API's JSON, axe-core finds no serious or critical violation, and every action
is reachable by keyboard. One app per module on SQLite, seeded through the API (tests/api/console_kit.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from settld.money import major_units
from tests.api.console_browser_kit import open_page, serious_violations, settled, sign_in, tab_reaches
from tests.api.console_kit import POLICY, World, console_world, seed_market, seed_policies, signed_in

pytestmark = pytest.mark.xdist_group("console-browser")


@pytest.fixture(scope="module")
def world(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with console_world(sqlite_template, tmp_path_factory.mktemp("console-browser-workspaces")) as shared:
        yield shared


@pytest.fixture
def page(browser: Any, world: World) -> Iterator[Any]:
    yield from open_page(browser, world)


@pytest.fixture(scope="module")
def seeded(world: World) -> World:
    """acme's policy versions and rollout, its listing, RFQ and bids (for the policies and marketplace tests)."""
    seed_policies(world)
    seed_market(world)
    return world


def test_the_new_workspaces_actions_are_reachable_by_keyboard(page: Any, seeded: World) -> None:
    world = seeded
    sign_in(page, world)
    page.goto(world.base_url + "/console/policies")
    assert tab_reaches(page, {"Roll back", "Compare", "Sign out"}) == {"Roll back", "Compare", "Sign out"}
    page.goto(world.base_url + "/console/marketplace/rfqs/rfq_manual")
    wanted = {"Apply", "Accept…", "Sign out", "Back to the RFQs"}
    assert tab_reaches(page, wanted) == wanted
    page.get_by_role("link", name="Accept… bid bid_agt_b").focus()
    page.keyboard.press("Enter")  # the confirmation opens from the keyboard
    page.wait_for_url("**/accept?bid_id=bid_agt_b")
    wanted = {"Confirm: accept this bid", "Cancel"}
    assert tab_reaches(page, wanted) == wanted
    assert serious_violations(page) == []
    for path in (
        "/console/marketplace",
        "/console/marketplace/rfqs",
        "/console/marketplace/listings/lst_translate",
    ):
        page.goto(world.base_url + path)
        assert serious_violations(page) == [], path


def test_policies_diff_and_roll_back(page: Any, seeded: World, tmp_path: Path) -> None:
    world, api, base = seeded, seeded.api(), "/v1/tenants/acme/settlement-policies"
    sign_in(page, world)
    page.get_by_role("link", name="Policies", exact=True).first.click()
    state = api.get(f"{base}/state").json()
    assert page.get_by_test_id("rollout-revision").inner_text() == str(state["revision"])
    assert (
        page.get_by_test_id("canary-percent").inner_text()
        == f"{state['stages']['canary']['rollout_percent']} %"
    )
    shown = (
        page.get_by_test_id("versions")
        .locator("tbody tr")
        .evaluate_all("rows => rows.map(r => r.dataset.ref)")
    )
    listed = api.get(base).json()["items"]
    assert shown == [f"{v['policy_id']}@{v['policy_version']}" for v in listed]

    page.get_by_label("From", exact=True).select_option(f"{POLICY}@1")
    page.get_by_label("To", exact=True).select_option(f"{POLICY}@3")
    page.get_by_role("button", name="Compare").click()
    settled(page)
    diff = api.get(f"{base}/diff", params={"from": f"{POLICY}@1", "to": f"{POLICY}@3"}).json()
    rows = page.get_by_test_id("diff").locator("tbody tr")
    expect(rows.first).to_have_attribute("data-kind", "changed")
    got = sorted(rows.evaluate_all("rows => rows.map(r => [r.dataset.path, r.dataset.kind])"))
    assert got == sorted([c["path"], c["kind"]] for c in diff["changes"])
    assert {kind for _, kind in got} == {"added", "removed", "changed"}
    row = page.locator("[data-testid=diff] tr[data-path='policy.rules.green_release_rate_pct']")
    assert "100" in row.inner_text() and "80" in row.inner_text()
    summary = diff["summary"]
    assert f"{summary['changed']} changed, {summary['added']} added, {summary['removed']} removed" in (
        page.get_by_test_id("diff-summary").inner_text()
    )
    assert serious_violations(page) == []

    page.get_by_label("Note", exact=True).fill("v2 holds back too much")
    page.get_by_role("button", name="Roll back").click()
    settled(page)
    expect(page.get_by_test_id("flash")).to_contain_text("active_rollback")
    state = api.get(f"{base}/state").json()
    assert (state["stages"]["active"]["policy_version"], state["history"][0]["action"]) == (
        1,
        "active_rollback",
    )
    assert page.get_by_test_id("stage-active").inner_text().startswith(f"{POLICY} v1")
    assert page.get_by_test_id("rollout-revision").inner_text() == str(state["revision"])
    assert page.get_by_test_id("history").locator("tbody tr").count() == len(state["history"])
    assert page.get_by_test_id("diff").locator("tbody tr").count() == len(diff["changes"])  # the diff stays
    assert serious_violations(page) == []
    page.screenshot(path=str(tmp_path / "policies.png"), full_page=True)


def test_marketplace_accept_a_bid_with_confirmation(page: Any, seeded: World, tmp_path: Path) -> None:
    world, api = seeded, seeded.api()
    sign_in(page, world)
    page.get_by_role("link", name="Marketplace", exact=True).first.click()
    assert page.locator("[data-testid=listings] tr[data-listing-id=lst_translate]").count() == 1
    page.get_by_role("link", name="German to English, reviewed").click()
    revisions = api.get("/v1/marketplace/listings/lst_translate/revisions").json()
    assert page.get_by_test_id("revisions").locator("tbody tr").count() == len(revisions) == 2
    page.goto(world.base_url + "/console/marketplace/rfqs")
    page.get_by_role("link", name="Translate the manual").click()
    bids = api.get("/v1/marketplace/rfqs/rfq_manual/bids").json()["items"]
    rows = page.get_by_test_id("bids").locator("tbody tr")
    assert rows.evaluate_all("rows => rows.map(r => Number(r.dataset.amountCents))") == [
        b["amount_cents"] for b in bids
    ]
    assert serious_violations(page) == []

    cheapest = bids[0]
    page.get_by_role("link", name=f"Accept… bid {cheapest['bid_id']}").click()
    confirm = page.get_by_test_id("confirm")
    assert major_units(cheapest["amount_cents"], "USD") in confirm.inner_text()
    assert api.get("/v1/marketplace/rfqs/rfq_manual").json()["rfq"]["status"] == "open"  # nothing yet
    page.get_by_role("button", name="Confirm: accept this bid").click()
    expect(page.get_by_test_id("flash")).to_contain_text("accepted")
    rfq = api.get("/v1/marketplace/rfqs/rfq_manual").json()["rfq"]
    agreement = api.get(f"/v1/marketplace/agreements/{rfq['agreement_id']}").json()["agreement"]
    assert (rfq["status"], rfq["accepted_bid_id"]) == ("assigned", cheapest["bid_id"])
    assert page.url.endswith(f"/console/marketplace/agreements/{agreement['agreement_id']}")
    assert page.get_by_test_id("offer-hash").inner_text() == agreement["offer_hash"]
    assert page.get_by_test_id("agreement-run").inner_text() == agreement["run_id"]
    assert (
        major_units(agreement["amount_cents"], "USD") in page.get_by_test_id("agreement-amount").inner_text()
    )
    assert serious_violations(page) == []
    page.screenshot(path=str(tmp_path / "marketplace-agreement.png"), full_page=True)
    rival = signed_in(world, world.rival_token)  # another tenant's session: the agreement does not exist
    assert rival.get(f"/console/marketplace/agreements/{agreement['agreement_id']}").status_code == 404
    page.get_by_role("link", name="Back to the RFQ").click()
    statuses = page.get_by_test_id("bids").locator("[data-testid=bid-status]").all_inner_texts()
    assert statuses == [b["status"] for b in api.get("/v1/marketplace/rfqs/rfq_manual/bids").json()["items"]]
    assert statuses == ["accepted", "rejected", "rejected"]
