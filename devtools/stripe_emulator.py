"""A local Stripe emulator (`localstripe`, tests and smoke only) on loopback, for the official SDK.

localstripe's own launcher listens on every interface and may load a pickled state from /tmp; this one
binds 127.0.0.1 on a free port and always starts empty. It sends webhooks signed like Stripe (HMAC-SHA256
of "<t>.<body>") to URLs registered with `register_webhook`, serves Checkout and Billing Portal sessions
(which localstripe lacks), and fails on demand (`set_faults`, `clear_faults`) for the failure drills.

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

# localstripe has no Checkout or Billing Portal: the launcher adds both (shaped like Stripe's, enough for
# the SDK), and faults for drills: POST /_config/faults {status, count} answers the next `count` API
# requests (-1: until DELETE /_config/faults) with that HTTP status and Stripe's error body.
LAUNCHER = """
import itertools, socket, sys, time
from aiohttp import web
from localstripe import server
from localstripe.errors import UserError
from localstripe.resources import store
faults = {"status": 0, "count": 0}
ids = itertools.count(1)

@web.middleware
async def fault_middleware(request, handler):
    if request.path.startswith("/v1/") and faults["count"]:
        faults["count"] -= faults["count"] > 0
        error = {"type": "api_error", "message": "emulated outage"}
        return web.json_response({"error": error}, status=faults["status"])
    return await handler(request)

async def set_faults(request):
    data = await server.get_post_data(request) or {}
    faults.update(status=int(data.get("status", 500)), count=int(data.get("count", -1)))
    return web.Response()

async def clear_faults(request):
    faults.update(status=0, count=0)
    return web.Response()

def _customer(data):
    customer = data.get("customer")
    if customer is not None and store.get("customer:" + customer) is None:
        raise UserError(400, "No such customer: " + repr(customer), {"code": "resource_missing", "param": "customer"})
    return customer

async def checkout_session(request):
    data = await server.get_post_data(request) or {}
    items = data.get("line_items") or []
    if data.get("mode") not in ("payment", "setup", "subscription") or not data.get("success_url"):
        raise UserError(400, "mode and success_url are required", {"param": "mode"})
    if not items or not items[0].get("price"):
        raise UserError(400, "line_items[0][price] is required", {"param": "line_items"})
    n, now = next(ids), int(time.time())
    session_id = "cs_test_emulated_%06d" % n
    return server.json_response({
        "id": session_id, "object": "checkout.session", "mode": data["mode"], "status": "open",
        "url": "https://checkout.stripe.test/c/pay/" + session_id, "customer": _customer(data),
        "subscription": None, "success_url": data["success_url"], "cancel_url": data.get("cancel_url"),
        "metadata": data.get("metadata") or {}, "created": now, "expires_at": now + 24 * 3600,
        "livemode": False})

async def portal_session(request):
    data = await server.get_post_data(request) or {}
    if not data.get("customer"):
        raise UserError(400, "customer is required", {"param": "customer"})
    customer, n = _customer(data), next(ids)
    session_id = "bps_emulated_%06d" % n
    return server.json_response({
        "id": session_id, "object": "billing_portal.session", "customer": customer,
        "return_url": data.get("return_url"), "url": "https://billing.stripe.test/p/session/" + session_id,
        "created": int(time.time()), "livemode": False})

server.app.middlewares.insert(0, fault_middleware)
server.app.router.add_post("/_config/faults", set_faults)
server.app.router.add_delete("/_config/faults", clear_faults)
server.app.router.add_post("/v1/checkout/sessions", checkout_session)
server.app.router.add_post("/v1/billing_portal/sessions", portal_session)
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


def set_faults(base_url: str, *, status: int = 500, count: int = -1) -> None:
    """Make the emulator answer the next `count` API requests (-1: all, until `clear_faults`) with `status`."""
    httpx.post(
        f"{base_url}/_config/faults", data={"status": status, "count": count}, timeout=5.0
    ).raise_for_status()


def clear_faults(base_url: str) -> None:
    httpx.delete(f"{base_url}/_config/faults", timeout=5.0).raise_for_status()
