"""Screenshots of the Dagster UI answering finance's questions, for docs/screenshots/ (README links them).

    python -m devtools.screenshots [OUT_DIR]     # after `make demo`; what `make screenshots` runs

Starts `dagster-webserver` on loopback over the demo's instance (`DAGSTER_HOME`) and warehouse, opens each
page in Debian's chromium driven by Playwright (`executable_path`: no browser download), waits for the
page to render and saves a PNG. The pages are the latest period's partition of the reconciliation
reports (what did not reconcile, and why), of the gate verdicts (is the month ready to close) and of the
invoice drafts (what each tenant was invoiced).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from devtools.browser import launch_chromium
from devtools.serving import wait_until_serving

REPO_ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2026-10"
# name -> (page, the metadata entry whose Markdown table answers the question)
PAGES = {
    "reconciliation-mismatches": (
        f"/assets/reports/reconciliation_reports?view=partitions&partition={PERIOD}",
        "largest_mismatches",
    ),
    "period-gate": (f"/assets/gates/period_verdicts?view=partitions&partition={PERIOD}", "verdicts"),
    "invoices": (f"/assets/reports/invoice_drafts?view=partitions&partition={PERIOD}", "invoices"),
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def take(out_dir: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    webserver = Path(sys.executable).with_name("dagster-webserver")
    process = subprocess.Popen(
        [str(webserver), "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    written = []
    try:
        wait_until_serving(f"{base_url}/server_info", timeout=90, process=process)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1600, "height": 1100})
            for name, (path, entry) in PAGES.items():
                page.goto(base_url + path, wait_until="networkidle")
                page.wait_for_timeout(1500)  # the asset page renders its metadata after the data arrives
                skip = page.get_by_role("button", name="Skip")  # the UI's one-time newsletter prompt
                if skip.count():
                    skip.first.click()
                page.screenshot(path=str(out_dir / f"{name}.png"), full_page=True)
                written.append(out_dir / f"{name}.png")
                # The Markdown table itself, opened from its metadata row.
                # The Markdown table itself: inline when short, else behind "Show Markdown" in a dialog.
                row = page.locator("tr", has_text=entry).first
                link = row.get_by_text("Show Markdown")
                if link.count():
                    link.first.click()
                    page.wait_for_timeout(800)
                    page.get_by_role("dialog").first.screenshot(path=str(out_dir / f"{name}-table.png"))
                    page.keyboard.press("Escape")
                else:
                    row.screenshot(path=str(out_dir / f"{name}-table.png"))
                written.append(out_dir / f"{name}-table.png")
            browser.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    return written


if __name__ == "__main__":
    for path in take(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT / "docs" / "screenshots"):
        print(path)
