"""The console in a real browser (Debian's chromium through Playwright): sign in, triage a mismatch, meet
the conflict a concurrent API change causes, close a green period and download its evidence bundle; what
the page shows is checked against the API; axe-core finds no serious or critical violation; every action
is reachable by keyboard; filters, sort and triage update in place with script and work as full pages
without. One shared app per module on SQLite (tests/api/console_kit.py); the policies and marketplace
workspaces are in test_console_browser_workspaces.py."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.browser import block_other_hosts
from settld.money import major_units
from tests.api.console_browser_kit import open_page, serious_violations, settled, sign_in, tab_reaches
from tests.api.console_kit import (
    World,
    console_world,
    open_cases,
)

pytestmark = pytest.mark.xdist_group("console-browser")


@pytest.fixture(scope="module")
def world(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with console_world(sqlite_template, tmp_path_factory.mktemp("console-browser")) as shared:
        yield shared


@pytest.fixture
def page(browser: Any, world: World) -> Iterator[Any]:
    yield from open_page(browser, world)


def test_triage_conflict_close_and_bundle_in_the_browser(page: Any, world: World, tmp_path: Path) -> None:
    api = world.api()
    sign_in(page, world)
    assert page.get_by_test_id("tenant").inner_text() == "acme"
    assert page.get_by_test_id("scopes").inner_text() == "finance_read, finance_write, ops_read"
    assert serious_violations(page) == []
    page.get_by_role("link", name="Reconciliation", exact=True).first.click()

    # The queue and the tie-out are the API's: same rows, same sums per currency.
    queue = api.get("/ops/finance/reconciliation/queue", params={"period": "2026-10"}).json()
    shown = page.locator("[data-testid=queue] tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.triageKey)"
    )
    assert shown == [item["triage_key"] for item in queue["items"]]
    usd = [item for item in queue["items"] if item["currency"] == "USD"]
    tieout = page.get_by_test_id("tieout").inner_text()
    assert major_units(sum(i["amount_delta_cents"] for i in usd), "USD") in tieout
    assert "EUR" in tieout and page.get_by_test_id("chart").locator("rect").count() > 0
    assert "red" in page.get_by_test_id("gate").inner_text()
    assert page.get_by_role("button", name="Close period 2026-10").is_disabled()

    # Triage: open the amount mismatch, assign it, see it in the API.
    key = world.triage_key("acme", "po_101")
    page.locator(f"tr[data-triage-key='{key}'] a").click()
    settled(page)
    detail = page.get_by_test_id("detail")
    assert detail.locator(".diff").count() >= 2  # the amounts differ, highlighted on both sides
    page.get_by_label("Owner (assign)").fill("dana@acme.example")
    page.get_by_role("button", name="Assign").click()
    settled(page)
    assert "in_progress (revision 1)" in page.get_by_test_id("flash").inner_text()
    record = api.get(f"/ops/finance/reconciliation/triage/{key}").json()["triage"]
    assert (record["status"], record["owner"], record["revision"]) == ("in_progress", "dana@acme.example", 1)
    assert page.get_by_test_id("detail-status").inner_text() == "in_progress"
    assert page.locator(f"tr[data-triage-key='{key}'] [data-testid=status]").inner_text() == "in_progress"

    # A concurrent change through the API (If-Match 1), then the page's stale form: a message, not a crash.
    changed = api.post("/ops/finance/reconciliation/triage", headers={"If-Match": '"1"', "Idempotency-Key": "other-1"},
                       json={"triage_key": key, "status": "acknowledged"})  # fmt: skip
    assert changed.status_code == 200 and changed.json()["triage"]["revision"] == 2
    page.get_by_label("Resolution (resolve, dismiss)").fill("rail fee, booked")
    page.get_by_role("button", name="Resolve").click()
    settled(page)
    flash = page.get_by_test_id("flash")
    assert flash.get_attribute("role") == "alert" and "REVISION_CONFLICT" in flash.inner_text()
    record = api.get(f"/ops/finance/reconciliation/triage/{key}").json()["triage"]
    assert (record["status"], record["revision"]) == ("acknowledged", 2)  # the stale form changed nothing
    assert page.get_by_test_id("revision").inner_text() == "2"  # the page now shows the current record
    page.get_by_label("Resolution (resolve, dismiss)").fill("rail fee, booked")
    page.get_by_role("button", name="Resolve").click()
    settled(page)
    assert "resolved (revision 3)" in page.get_by_test_id("flash").inner_text()
    assert serious_violations(page) == []
    page.screenshot(path=str(tmp_path / "reconciliation.png"), full_page=True)

    # Close the green period from the keyboard and download its bundle: the bytes the API recorded.
    page.get_by_label("Period", exact=True).select_option("2026-09")
    page.get_by_role("button", name="Apply").click()
    settled(page)
    assert "green" in page.get_by_test_id("gate").inner_text()
    close = page.get_by_role("button", name="Close period 2026-09")
    assert close.is_enabled()
    close.focus()
    page.keyboard.press("Enter")
    settled(page)
    assert "is closed" in page.get_by_test_id("flash").inner_text()
    with page.expect_download() as download_info:
        page.get_by_test_id("bundle").click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    closed = api.get("/ops/finance/periods/2026-09").json()["close"]
    assert (
        closed["status"] == "closed"
        and hashlib.sha256(saved.read_bytes()).hexdigest() == closed["bundle_sha256"]
    )
    page.screenshot(path=str(tmp_path / "reconciliation-closed.png"), full_page=True)


def test_every_action_is_reachable_by_keyboard(page: Any, world: World) -> None:
    sign_in(page, world)
    key = world.triage_key("acme", "po_103")
    page.goto(f"{world.base_url}/console/reconciliation?period=2026-10&selected={key}")
    wanted = {"Apply", "Open", "Acknowledge", "Assign", "Resolve", "Dismiss", "Sign out", "Next page"}
    reached: set[str] = set()
    page.locator("body").focus()
    for _ in range(80):
        page.keyboard.press("Tab")
        name = page.evaluate("document.activeElement && (document.activeElement.innerText || '').trim()")
        reached.update(word for word in wanted if name.startswith(word))
        if wanted - {"Next page"} <= reached:
            break
    assert wanted - {"Next page"} <= reached
    assert serious_violations(page) == []


def test_onboarding_checklist_and_the_platform_funnel(page: Any, world: World, tmp_path: Path) -> None:
    sign_in(page, world)
    page.get_by_role("link", name="Onboarding", exact=True).first.click()
    checklist = world.api().get("/v1/tenants/acme/onboarding/checklist").json()
    rows = page.get_by_test_id("checklist").locator("tbody tr")
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.step)") == [
        s["step"] for s in checklist["steps"]
    ]
    done = page.get_by_test_id("checklist").locator("tbody tr:has(.badge.ok)").count()
    assert done == checklist["completed_steps"] > 0
    assert page.get_by_test_id("next-step").inner_text() == checklist["next_step"]
    assert page.get_by_test_id("funnel").count() == 0  # the funnel is cross-tenant: platform keys only
    assert serious_violations(page) == []
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, world, world.platform_token)
    page.get_by_role("link", name="Onboarding", exact=True).first.click()
    cohorts = world.api(world.platform_token).get("/ops/onboarding/cohorts", params={"cohort_grain": "month"})
    funnel = page.get_by_test_id("funnel")
    bars = funnel.locator("svg[data-testid=chart] rect title").all_text_contents()
    assert sorted(bars) == sorted(
        f"{c['cohort']} {c['step']}: {c['reached_tenants']}" for c in cohorts.json()["items"]
    )
    page.get_by_role("textbox", name="Tenant").fill("acme")
    page.keyboard.press("Enter")
    assert "checklist of acme" in page.get_by_test_id("checklist").inner_text()
    assert serious_violations(page) == []
    page.screenshot(path=str(tmp_path / "onboarding.png"), full_page=True)


def test_arbitration_queue_assign_conflict_and_decide(page: Any, world: World, tmp_path: Path) -> None:
    first, second = open_cases(world)
    api = world.api()
    sign_in(page, world)
    page.get_by_role("link", name="Arbitration", exact=True).first.click()
    listed = api.get("/ops/arbitration/queue").json()
    rows = page.get_by_test_id("arbitration-queue").locator("tbody tr")
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.caseId)") == [
        i["case_id"] for i in listed["queue"]
    ]
    assert "over SLA" in page.locator(f"tr[data-case-id='{first}']").inner_text()
    assert "due soon" in page.locator(f"tr[data-case-id='{second}']").inner_text()
    page.get_by_label("Status", exact=True).select_option("open")
    page.get_by_role("button", name="Apply").click()
    settled(page)
    assert rows.count() == listed["status_counts"]["open"] == 2
    assert serious_violations(page) == []

    page.get_by_role("link", name=first).click()
    wanted = {"Assign arbiter", "Add evidence", "Back to the queue"}  # the case's actions, from the keyboard
    assert tab_reaches(page, wanted) == wanted
    page.get_by_label("Arbiter agent id").fill("agt_arbiter_7")
    page.get_by_role("button", name="Assign arbiter").click()
    assert "under_review" in page.get_by_test_id("flash").inner_text()
    case = api.get(f"/ops/arbitration/cases/{first}").json()["case"]
    assert (case["status"], case["arbiter_agent_id"]) == ("under_review", "agt_arbiter_7")

    # Evidence added through the API meanwhile: the page's verdict form is stale, and says so.
    added = api.post(f"/ops/arbitration/cases/{first}/evidence", json={"evidence_refs": ["ev:invoice-7"]},
                     headers={"If-Match": f'"{case["revision"]}"', "Idempotency-Key": "console-ev-1"})  # fmt: skip
    assert added.status_code == 200, added.text
    page.get_by_label("Outcome").select_option("partial")
    page.get_by_label("Released to the payee (%)").fill("40")
    page.get_by_label("Rationale").fill("Two of five milestones delivered.")
    page.get_by_role("button", name="Issue verdict").click()
    assert "REVISION_CONFLICT" in page.get_by_test_id("flash").inner_text()
    assert "ev:invoice-7" in page.get_by_test_id("evidence").inner_text()
    page.get_by_label("Outcome").select_option("partial")
    page.get_by_label("Released to the payee (%)").fill("40")
    page.get_by_label("Rationale").fill("Two of five milestones delivered.")
    page.get_by_role("button", name="Issue verdict").click()
    assert "verdict_issued" in page.get_by_test_id("flash").inner_text()
    workspace = api.get(f"/ops/arbitration/cases/{first}/workspace").json()
    assert workspace["arbitration_case"]["status"] == "verdict_issued"
    assert page.get_by_test_id("case-status").inner_text() == "verdict_issued"
    shown = page.get_by_test_id("timeline").locator("li").count()
    assert shown == len(workspace["timeline"])
    assert page.get_by_role("button", name="Assign arbiter").count() == 0  # actionability, as the API says
    assert (
        page.get_by_role("button", name="Close case").is_visible()
        == workspace["actionability"]["can_close_case"]
    )
    assert serious_violations(page) == []
    page.screenshot(path=str(tmp_path / "arbitration-case.png"), full_page=True)


def test_filters_sort_and_triage_update_in_place_and_work_without_script(
    page: Any, browser: Any, world: World
) -> None:
    sign_in(page, world)
    page.goto(world.base_url + "/console/reconciliation?period=2026-10")
    page.evaluate("window.__stayed = true")  # gone if the page were loaded again
    loads = []
    page.on("load", lambda _: loads.append(1))
    page.get_by_label("Type", exact=True).select_option("missing_operation")
    page.get_by_role("button", name="Apply").click()
    settled(page)
    assert "mismatch_type=missing_operation" in page.url
    shown = page.locator("[data-testid=queue] tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.triageKey)"
    )
    api = world.api().get(
        "/ops/finance/reconciliation/queue",
        params={"period": "2026-10", "mismatch_type": "missing_operation"},
    )
    assert shown == [item["triage_key"] for item in api.json()["items"]] != []
    page.get_by_label("Type", exact=True).select_option("")
    page.get_by_role("button", name="Apply").click()
    settled(page)
    page.locator("[data-testid=queue] a[data-sort=delta]").click()  # a column header sorts (the API's sort)
    settled(page)
    delta = world.api().get(
        "/ops/finance/reconciliation/queue", params={"period": "2026-10", "sort": "delta"}
    )
    shown = page.locator("[data-testid=queue] tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.triageKey)"
    )
    assert shown == [item["triage_key"] for item in delta.json()["items"]]
    assert page.locator("th[aria-sort]").inner_text().startswith("Delta")
    key = world.triage_key("acme", "po_102")
    page.locator(f"tr[data-triage-key='{key}'] a").click()
    settled(page)
    page.get_by_role("button", name="Acknowledge").click()
    settled(page)
    flash = page.get_by_test_id("flash")
    assert "acknowledged (revision 1)" in flash.inner_text()
    assert page.evaluate("document.activeElement.dataset.testid") == "flash"  # the result is announced
    assert page.evaluate("window.__stayed") is True and loads == []  # no full reload all along
    assert (
        world.api().get(f"/ops/finance/reconciliation/triage/{key}").json()["triage"]["status"]
        == "acknowledged"
    )

    plain = browser.new_context(java_script_enabled=False)  # the same forms as full pages
    try:
        no_script = plain.new_page()
        block_other_hosts(no_script, world.base_url)
        sign_in(no_script, world)
        no_script.goto(f"{world.base_url}/console/reconciliation?period=2026-10&selected={key}")
        no_script.get_by_label("Owner (assign)").fill("sam@acme.example")
        no_script.get_by_role("button", name="Assign").click()
        assert "in_progress (revision 2)" in no_script.get_by_test_id("flash").inner_text()
    finally:
        plain.close()
    assert (
        world.api().get(f"/ops/finance/reconciliation/triage/{key}").json()["triage"]["owner"]
        == "sam@acme.example"
    )
