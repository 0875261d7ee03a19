"""A local Stripe emulator (`localstripe`, tests and smoke only) on loopback, for the official SDK.

localstripe's own launcher listens on every interface and may load a pickled state from /tmp; this one
binds 127.0.0.1 on a free port and always starts empty. It sends webhooks signed like Stripe (HMAC-SHA256
of "<t>.<body>") to URLs registered with `register_webhook`.

    with running_emulator() as base_url:  # http://127.0.0.1:PORT
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": base_url})
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

LAUNCHER = """
import socket, sys
from aiohttp import web
from localstripe import server
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", int(sys.argv[1])))
web.run_app(server.app, sock=sock, print=None, access_log=None)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_emulator(startup_timeout: float = 20.0) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            try:
                httpx.get(base_url + "/v1/customers", auth=("sk_test_probe", ""), timeout=1.0)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                    raise RuntimeError(f"localstripe did not start on {base_url}: {error[-2000:]}") from None
                time.sleep(0.05)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def register_webhook(base_url: str, *, url: str, secret: str, name: str = "settld") -> None:
    """Ask the emulator to deliver every event to `url`, signed with `secret`."""
    response = httpx.post(
        f"{base_url}/_config/webhooks/{name}", data={"url": url, "secret": secret}, timeout=5.0
    )
    response.raise_for_status()
