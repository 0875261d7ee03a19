"""No input can make a 5xx: hostile requests to every operation of the OpenAPI document (issue 28).

For each operation, on SQLite and on Postgres, hypothesis sends requests of every hostile kind
(tests/api/hostile.py: lone surrogates, NUL, overflowing numbers, deep nesting, invalid UTF-8, long
strings, wrong types, duplicated keys, non-ASCII header bytes) in the body, path, query and headers,
with and without valid credentials (the key where the operation declares `security`, Stripe's signature
where it takes a `Stripe-Signature` header). Each answer must be below 500, a 4xx must be a problem
document whose code the operation documents (or the framework's, for a path no route matches), and no
request may take a second. Operations, parameters and body schemas come from the document itself, so a
route added later is walked without an edit here.

Findings not fixed yet are KNOWN_5XX: their kind is left out of the operation's walk, and the request
that shows them is a strict xfail, which fails once the finding is fixed so that its entry goes.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from api.core.errors import FRAMEWORK_CODES, PROBLEM_MEDIA_TYPE
from api.core.settings import ApiSettings
from api.main import create_app
from api.reconciliation.schemas import EXAMPLE_TRIAGE_KEY
from tests.api.conftest import migrated_database
from tests.api.factories import SECRET, Factory, mismatch_row
from tests.api.hostile import KINDS, SIGNATURE_HEADER, Operation, Request, hostile_request, stripe_signature

DOCUMENT = create_app(ApiSettings(database_url="sqlite:///:memory:", check_schema_on_startup=False)).openapi()
OPERATIONS = [
    Operation(method.upper(), path, spec, DOCUMENT["components"]["schemas"])
    for path, item in DOCUMENT["paths"].items()
    for method, spec in item.items()
]
MAX_SECONDS = 1.0  # of CPU time per request
MAX_WALL_SECONDS = 5.0  # the machine running the tests may be busy: wall-clock time only catches waiting
# 25 examples of one request per kind: 2-3 seconds per operation and backend. No shrinking (a failure shows
# the request as drawn), so a failing run is as short as a passing one.
WALK = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                phases=(Phase.explicit, Phase.reuse, Phase.generate))  # fmt: skip


def send(client: TestClient, request: Request) -> tuple[httpx.Response, float, float]:
    """The answer, the CPU seconds the process spent on it (client and app: a measure of the work a
    request costs that a busy machine does not inflate) and the wall-clock seconds. The cyclic garbage
    collector is paused meanwhile: a full collection of a worker's heap, grown by every test it ran
    before, can take over a second and is no cost of this request."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        response = client.request(request.method, request.url, headers=list(request.headers.items()),
                                  content=request.body)  # fmt: skip
        return response, time.process_time() - cpu, time.perf_counter() - wall
    finally:
        if collecting:
            gc.enable()


def documented_codes(operation: Operation) -> set[str]:
    return {
        code
        for answer in operation.spec.get("responses", {}).values()
        for code in answer.get("content", {}).get(PROBLEM_MEDIA_TYPE, {}).get("examples", {})
    }


def check(operation: Operation, request: Request, response: httpx.Response, cpu: float, wall: float) -> None:
    where = f"{operation.method} {operation.path}: {request}"
    assert response.status_code < 500, f"{response.status_code} {response.text[:300]} <- {where}"
    assert cpu < MAX_SECONDS, f"{cpu:.2f}s of CPU <- {where}"
    assert wall < MAX_WALL_SECONDS, f"{wall:.2f}s <- {where}"  # waiting (a lock) counts here
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE, where
        code = response.json()["code"]
        assert code in documented_codes(operation) | set(FRAMEWORK_CODES.values()), f"{code} <- {where}"


@dataclass(frozen=True)
class Finding:
    """A 5xx the walk found that another change fixes; `request` shows it."""

    reason: str
    request: Callable[[], Request]
    backends: tuple[str, ...] = ("sqlite", "postgres")


def _webhook(payload: dict, *, signed: bool = False, headers: dict[str, bytes] | None = None) -> Request:
    content = json.dumps(payload).encode()
    signature = {SIGNATURE_HEADER: stripe_signature(content, SECRET)} if signed else {}
    return Request("POST", "/v1/webhooks/stripe", {**signature, **(headers or {})}, content)


WEBHOOK = "POST /v1/webhooks/stripe"
# Empty since the webhook records what it cannot store escaped or cut (api/billing/fields.py); a finding
# goes here with the request that shows it, until the change that fixes it.
KNOWN_5XX: dict[tuple[str, str], Finding] = {}


def known(operation: Operation, kind: str, backend: str) -> Finding | None:
    finding = KNOWN_5XX.get((f"{operation.method} {operation.path}", kind))
    return finding if finding is not None and backend in finding.backends else None


def backend_of(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        # Every operation a second time on Postgres is about two minutes of a worker: a drill (CI runs
        # `make test-drills`), while `make test` walks every operation on SQLite.
        pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres, pytest.mark.drill]),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from migrated_database(request, tmp_path)


@pytest.fixture
def fuzz_client(database_url: str, factory: Factory, tmp_path: Path) -> Iterator[TestClient]:
    """The app with a Stripe secret (signed deliveries get past verification) and a mismatch published
    under the schema's example triage key (generated triage writes reach the state machine)."""
    factory.publish([{**mismatch_row("acme", "fuzz"), "triage_key": EXAMPLE_TRIAGE_KEY}])
    settings_ = ApiSettings(database_url=database_url, stripe_webhook_secret=SECRET, artifacts_dir=tmp_path)
    with TestClient(create_app(settings_)) as client:
        yield client


@pytest.mark.parametrize(
    "operation", OPERATIONS, ids=lambda operation: f"{operation.method} {operation.path}"
)
@WALK
@given(data=st.data())
def test_no_hostile_request_makes_a_5xx(
    fuzz_client: TestClient, token: str, database_url: str, operation: Operation, data: st.DataObject
) -> None:
    for kind in KINDS:
        if known(operation, kind, backend_of(database_url)) is None:
            request = data.draw(hostile_request(operation, kind, token=token, secret=SECRET), label=kind)
            check(operation, request, *send(fuzz_client, request))


def test_every_operation_is_walked() -> None:
    assert len(OPERATIONS) >= 12
    assert {"POST /ops/finance/periods/{period}/close", WEBHOOK} <= {
        f"{o.method} {o.path}" for o in OPERATIONS
    }


@pytest.mark.parametrize("finding", KNOWN_5XX, ids=" ".join)
def test_known_findings_still_fail(
    fuzz_client: TestClient, database_url: str, finding: tuple[str, str], request: pytest.FixtureRequest
) -> None:
    known_finding = KNOWN_5XX[finding]
    if backend_of(database_url) not in known_finding.backends:
        pytest.skip("this finding is on the other backend")
    request.applymarker(pytest.mark.xfail(strict=True, reason=known_finding.reason))
    operation = next(o for o in OPERATIONS if f"{o.method} {o.path}" == finding[0])
    shown = known_finding.request()
    check(operation, shown, *send(fuzz_client, shown))
