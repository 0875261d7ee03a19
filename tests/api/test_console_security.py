"""The console's doors over plain HTTP: no page without a session, CSRF on every form, one tenant per
session (another tenant's mismatch is a 404, as in the API), scopes re-checked on the server, and the
cookie and headers the browser is told to keep."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.core.settings import ApiSettings
from api.main import create_app
from tests.api.console_kit import World, console_world, csrf_of, open_cases, signed_in

pytestmark = pytest.mark.xdist_group("console-security")


@pytest.fixture(scope="module")
def world(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with console_world(sqlite_template, tmp_path_factory.mktemp("console-security")) as shared:
        yield shared


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/console"), ("GET", "/console/reconciliation"), ("GET", "/console/reconciliation/bundle/2026-09"),
     ("POST", "/console/reconciliation/triage"), ("POST", "/console/reconciliation/close"),
     ("POST", "/console/sign-out")],
)  # fmt: skip
def test_no_page_without_a_session(world: World, method: str, path: str) -> None:
    answer = httpx.request(method, world.base_url + path, data={"csrf": "x"} if method == "POST" else None)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in"


def test_the_session_cookie_is_signed_httponly_strict_and_holds_no_secret(world: World) -> None:
    client = signed_in(world)
    answer = client.get("/console/sign-in")
    assert "Content-Security-Policy" in answer.headers
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    fresh = httpx.Client(base_url=world.base_url).get("/console/sign-in")
    header = fresh.headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=strict" in header and "Path=/console" in header
    cookie = client.cookies["settld_console"]
    payload = json.loads(base64.urlsafe_b64decode(cookie.split(".")[0] + "=="))
    secret = world.token.split(".", 1)[1]
    assert payload["k"] == world.token.removeprefix("sk_").split(".")[0] and secret not in cookie
    tampered = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    forged = httpx.Client(base_url=world.base_url, cookies={"settld_console": tampered})
    assert forged.get("/console").status_code == 303


def test_a_wrong_key_is_refused_and_sign_out_ends_the_session(world: World) -> None:
    client = httpx.Client(base_url=world.base_url)
    form = client.get("/console/sign-in")
    answer = client.post("/console/sign-in", data={"api_key": world.token + "x", "csrf": csrf_of(form.text)})
    assert answer.status_code == 401 and 'data-testid="sign-in-error"' in answer.text
    client = signed_in(world)
    home = client.get("/console")
    assert home.status_code == 200 and "acme" in home.text and "finance_write" in home.text
    assert client.post("/console/sign-out", data={"csrf": csrf_of(home.text)}).status_code == 303
    assert client.get("/console").status_code == 303


def test_forms_without_the_csrf_token_are_refused(world: World) -> None:
    fresh = httpx.Client(base_url=world.base_url)
    fresh.get("/console/sign-in")
    assert fresh.post("/console/sign-in", data={"api_key": world.token}).status_code == 403
    client = signed_in(world)
    key = world.triage_key("acme", "po_103")
    for data in ({}, {"csrf": "forged"}):
        answer = client.post("/console/reconciliation/triage",
                             data={**data, "triage_key": key, "revision": "0", "action": "acknowledge"})  # fmt: skip
        assert answer.status_code == 403 and "CONSOLE_CSRF_REFUSED" in answer.text
        assert (
            client.post("/console/reconciliation/close", data={**data, "period": "2026-09"}).status_code
            == 403
        )
    assert world.api().get(f"/ops/finance/reconciliation/triage/{key}").status_code == 404  # nothing triaged
    assert world.api().get("/ops/finance/periods/2026-09").json()["close"] is None


def test_a_session_sees_nothing_of_another_tenant(world: World) -> None:
    client = signed_in(world)
    rival = world.triage_key("rival", "po_901")
    page = client.get("/console/reconciliation", params={"period": "2026-10"})
    assert page.status_code == 200 and rival not in page.text and "po_101" in page.text
    assert client.get("/console/reconciliation", params={"selected": rival}).status_code == 404
    answer = client.post("/console/reconciliation/triage", data={
        "csrf": csrf_of(page.text), "triage_key": rival, "revision": "0", "action": "acknowledge"})  # fmt: skip
    assert answer.status_code == 404 and "MISMATCH_NOT_FOUND" in answer.text
    assert world.api(world.rival_token).get(f"/ops/finance/reconciliation/triage/{rival}").status_code == 404
    rival_session = signed_in(world, world.rival_token)
    assert "po_101" not in rival_session.get("/console/reconciliation").text


def test_scopes_decide_what_is_shown_and_the_server_rechecks(world: World) -> None:
    client = signed_in(world, world.read_token)
    key = world.triage_key("acme", "po_092")
    page = client.get("/console/reconciliation", params={"period": "2026-09", "selected": key})
    assert (
        page.status_code == 200
        and "read-only" in page.text
        and 'action="/console/reconciliation/triage"' not in page.text
    )
    assert "Close period" not in page.text
    answer = client.post("/console/reconciliation/triage", data={
        "csrf": csrf_of(page.text), "triage_key": key, "revision": "0", "action": "acknowledge"})  # fmt: skip
    assert answer.status_code == 403 and "SCOPE_FORBIDDEN" in answer.text
    assert client.post("/console/reconciliation/close",
                       data={"csrf": csrf_of(page.text), "period": "2026-09"}).status_code == 403  # fmt: skip


def test_a_revoked_key_ends_its_session_and_bad_filters_are_the_apis_422(world: World) -> None:
    client = signed_in(world)
    bad = client.get("/console/reconciliation", params={"severity": "apocalyptic"})
    assert bad.status_code == 422 and "VALIDATION_FAILED" in bad.text
    token = world.factory.key("acme", "finance_read")
    doomed = signed_in(world, token)
    assert doomed.get("/console").status_code == 200
    world.factory.revoke(token)
    assert doomed.get("/console").status_code == 303


def test_the_queue_pages_by_the_apis_cursor(world: World) -> None:
    client = signed_in(world)
    shown, url, pages = [], "/console/reconciliation?period=2026-10&limit=2", 0
    while url:
        page, pages = client.get(url), pages + 1
        shown += re.findall(r'data-triage-key="([^"]+)"', page.text)
        nxt = re.search(r'href="([^"]+)" data-testid="next"', page.text)
        url = html.unescape(nxt.group(1)) if nxt else None
    api = (
        world.api()
        .get("/ops/finance/reconciliation/queue", params={"period": "2026-10", "limit": 500})
        .json()
    )
    assert shown == [item["triage_key"] for item in api["items"]] and len(shown) == 4
    assert pages == 2


def test_a_form_sent_twice_acts_once(world: World) -> None:
    client = signed_in(world)
    key = world.triage_key("acme", "po_104")
    page = client.get("/console/reconciliation", params={"period": "2026-10", "selected": key})
    form = {"csrf": csrf_of(page.text), "idempotency_key": "console-twice", "triage_key": key, "revision": "0",
            "action": "acknowledge"}  # fmt: skip
    assert client.post("/console/reconciliation/triage", data=form).status_code == 303
    again = client.post("/console/reconciliation/triage", data=form)
    assert "already sent" in client.get(again.headers["location"]).text
    record = world.api().get(f"/ops/finance/reconciliation/triage/{key}").json()["triage"]
    assert (record["status"], record["revision"]) == ("acknowledged", 1)


def test_onboarding_shows_a_tenant_key_its_own_tenant_only(world: World) -> None:
    client = signed_in(world)
    assert client.get("/console/onboarding").status_code == 200
    answer = client.get("/console/onboarding", params={"tenant_id": "rival"})
    assert answer.status_code == 404 and "TENANT_NOT_FOUND" in answer.text
    reader = signed_in(world, world.read_token)  # finance_read only: no ops_read
    assert reader.get("/console/onboarding").status_code == 403
    assert "/console/onboarding" not in reader.get("/console").text


def test_another_tenants_case_is_a_404_in_the_arbitration_workspace(world: World) -> None:
    acme_case, _ = open_cases(world)
    rival = signed_in(world, world.rival_token)
    assert rival.get(f"/console/arbitration/cases/{acme_case}").status_code == 404
    queue = rival.get("/console/arbitration")
    assert queue.status_code == 200 and acme_case not in queue.text
    answer = rival.post(f"/console/arbitration/cases/{acme_case}/assign",
                        data={"csrf": csrf_of(queue.text), "revision": "1", "arbiter_agent_id": "agt_intruder"})  # fmt: skip
    assert answer.status_code == 404 and "ARBITRATION_CASE_NOT_FOUND" in answer.text
    acme = signed_in(world)
    assert (
        acme.post(
            f"/console/arbitration/cases/{acme_case}/assign",
            data={"revision": "1", "arbiter_agent_id": "agt_x"},
        ).status_code
        == 403
    )  # no CSRF token
    case = world.api().get(f"/ops/arbitration/cases/{acme_case}").json()["case"]
    assert case["arbiter_agent_id"] is None and case["status"] == "open"


def test_the_console_is_not_in_the_openapi_document() -> None:
    document = create_app(
        ApiSettings(database_url="sqlite:///:memory:", check_schema_on_startup=False)
    ).openapi()
    assert [path for path in document["paths"] if path.startswith("/console")] == []
