"""The console's browser tests' shared parts: a page of the session's chromium that may reach the test's
server only, signing in, waiting for a partial update, the axe-core check and the keyboard walk. Each test
module keeps its own world (a module fixture) and a `page` fixture that yields from `open_page`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from axe_playwright_python.sync_playwright import Axe

from devtools.browser import block_other_hosts
from tests.api.console_kit import World


def open_page(browser: Any, world: World) -> Iterator[Any]:
    """A test's page (a module's `page` fixture yields from this): its own context, downloads allowed, and
    no request may leave for another host."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    elsewhere = block_other_hosts(page, world.base_url)
    yield page
    context.close()
    assert elsewhere == [], f"the console asked for other hosts: {elsewhere}"


def sign_in(page: Any, world: World, token: str | None = None) -> None:
    page.goto(world.base_url + "/console/reconciliation")
    assert page.url.endswith("/console/sign-in")  # no page without a session
    page.get_by_label("API key").fill(token or world.token)
    page.keyboard.press("Enter")  # the form submits from the keyboard
    page.wait_for_url(world.base_url + "/console")


def settled(page: Any) -> None:
    """Wait for a partial update of console.js (a fetch and a swap) to finish; a full page load has none.
    The script marks the fetch synchronously in the click's or submit's handler, before click() returns."""
    page.locator("html[data-loading]").wait_for(state="detached")  # a selector: the CSP allows no eval


def serious_violations(page: Any) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")]  # fmt: skip


def tab_reaches(page: Any, wanted: set[str], presses: int = 60) -> set[str]:
    """The names in `wanted` that Tab, from the top of the page, focuses (the start of their text)."""
    reached: set[str] = set()
    page.locator("body").focus()
    for _ in range(presses):
        page.keyboard.press("Tab")
        name = page.evaluate("document.activeElement && (document.activeElement.innerText || '').trim()")
        reached.update(word for word in wanted if name.startswith(word))
        if reached == wanted:
            break
    return reached
