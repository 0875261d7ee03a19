"""Debian's chromium driven by Playwright: the one way the project opens a real browser (screenshots,
browser tests). Playwright's own browser download is not reachable here, so it always gets
`executable_path`; the sandbox is off because CI runs as root."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


class ChromiumMissing(RuntimeError):
    pass


def chromium_path() -> str:
    found = next((path for path in CHROMIUM_CANDIDATES if Path(path).exists()), None) or shutil.which(
        "chromium"
    )
    if not found:
        raise ChromiumMissing("chromium is not installed (apt-get install chromium)")
    return found


def launch_chromium(playwright: Any) -> Any:
    """A headless chromium Browser from a started `sync_playwright()`."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])


def block_other_hosts(page: Any, allowed_prefix: str) -> list[str]:
    """Abort every request whose URL does not start with `allowed_prefix`; returns the list they go to,
    so a test can assert that nothing tried to leave the machine."""
    elsewhere: list[str] = []

    def route(route: Any) -> None:
        if route.request.url.startswith(allowed_prefix):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    return elsewhere
