"""Waiting for a server a tool started on loopback (uvicorn for the API bench, dagster-webserver for the
screenshots) to answer before using it."""

from __future__ import annotations

import subprocess
import time

import httpx


def wait_until_serving(url: str, *, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    """Poll `url` until it answers 200; fail when `timeout` passes or the server's `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
