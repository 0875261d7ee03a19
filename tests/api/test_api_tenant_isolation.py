"""Tenant isolation over every route that takes an id: one walk of the OpenAPI document (issue 27).

For each operation with path parameters, the victim tenant gets real records (made by the id providers
below, through the factories or through the API as the victim), and an intruder holding every scope calls
the operation with the victim's ids. The answer must be a 404, never a 200 and never a 5xx, and must be
the same (status, code, body with the ids put back) as the intruder's answer for ids that exist nowhere:
another tenant's record is exactly as absent as no record. Afterwards the victim sees all its records
as before: no write of the intruder touched them.

A route for platform keys only (/ops/tenants/...) answers every tenant key 403 PLATFORM_KEY_REQUIRED
whatever the ids: that too is allowed, as long as the answer for the victim's ids is the answer for ids
that exist nowhere.

A path parameter that names a scope rather than a record (a period: every tenant has its own 2026-10)
cannot be a 404 on a read of the intruder's own, empty period; for a route whose every parameter is such
a scope, only the second rule applies (indistinguishable from a period nobody used).

The walk finds operations in the document, so a route added later is walked without an edit here; one
whose path parameter has no provider fails, saying what to add to ID_PROVIDERS.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.core.settings import ApiSettings
from api.main import create_app
from api.tenants.models import Scope
from tests.api.arbitration_kit import ISOLATION_BODIES, isolation_providers
from tests.api.factories import Factory, auth, invoice_rows, mismatch_row
from tests.api.hostile import Operation
from tests.api.marketplace_kit import MARKET_ISOLATION_BODIES, market_isolation_providers
from tests.api.policies_kit import POLICY_ISOLATION_BODIES, policy_isolation_providers

DOCUMENT = create_app(ApiSettings(database_url="sqlite:///:memory:", check_schema_on_startup=False)).openapi()
OPERATIONS = [
    Operation(method.upper(), path, spec, DOCUMENT["components"]["schemas"])
    for path, item in DOCUMENT["paths"].items()
    for method, spec in item.items()
    if any(parameter["in"] == "path" for parameter in spec.get("parameters", []))
]
VICTIM, INTRUDER = "globex", "acme"
PERIOD, CURRENCY = "2026-10", "USD"
SECRET_OWNER = "globex-secret-owner"


@dataclass
class Victim:
    """The victim tenant: its key, a client, and the records the providers made (made once each)."""

    factory: Factory
    client: TestClient
    artifacts: Path
    token: str
    made: dict[str, str] = field(default_factory=dict)

    def once(self, name: str, make: Callable[[], str]) -> str:
        if name not in self.made:
            self.made[name] = make()
        return self.made[name]

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post(path, json=body, headers=auth(self.token))
        assert response.status_code == 200, response.text
        return response.json()


def _triage_key(victim: Victim) -> str:
    """A published mismatch of the victim's, triaged by the victim (owner, notes)."""
    row = mismatch_row(
        VICTIM, "isolation", period="2026-09"
    )  # not the closed period: it would block the close
    victim.factory.publish([row])
    body = {"triage_key": row["triage_key"], "status": "in_progress", "owner": SECRET_OWNER, "notes": "x"}
    victim.post("/ops/finance/reconciliation/triage", body)
    return row["triage_key"]


def _closed_period(victim: Victim) -> str:
    """The victim's period with a green verdict, its invoice published, then closed through the API."""
    invoices = invoice_rows(VICTIM, PERIOD, currency=CURRENCY)
    victim.factory.publish_invoices(*invoices)
    victim.factory.green_verdict(VICTIM, PERIOD, artifacts=victim.artifacts, invoices=invoices)
    victim.post(f"/ops/finance/periods/{PERIOD}/close")
    return PERIOD


def _key_id(token: str) -> str:
    return token.removeprefix("sk_").split(".")[0]


@dataclass(frozen=True)
class IdProvider:
    """How to fill a path parameter: `make` creates the victim's record and returns the id that names it;
    `absent` is a valid id nobody has; `names_a_record` is False for a scope every tenant has its own of
    (a period), whose read by the intruder is its own (empty) one rather than a 404."""

    make: Callable[[Victim], str]
    absent: str
    names_a_record: bool = True


# One entry per path parameter name in the API. A new route whose parameter is not here fails the walk.
ID_PROVIDERS: dict[str, IdProvider] = {
    "triage_key": IdProvider(lambda v: v.once("triage_key", lambda: _triage_key(v)), "frt_absent_0000"),
    "period": IdProvider(
        lambda v: v.once("period", lambda: _closed_period(v)), "2031-01", names_a_record=False
    ),
    "currency": IdProvider(lambda v: (v.once("period", lambda: _closed_period(v)), CURRENCY)[1], "JPY"),
    # The victim tenant itself (it exists: it has a key), for routes under /.../tenants/{tenant_id}/.
    "tenant_id": IdProvider(lambda v: VICTIM, "tnt_absent"),
    "key_id": IdProvider(lambda v: v.once("key_id", lambda: _key_id(v.factory.key(VICTIM))), "key_absent"),
}
# Bodies for write routes that require one (their documented example when they declare it).
BODIES: dict[str, dict[str, Any]] = {
    "POST /ops/finance/periods/{period}/reopen": {"reason": "isolation walk"},
    "POST /ops/tenants/{tenant_id}/keys": {"scopes": ["finance_read"]},
    "POST /v1/tenants/{tenant_id}/onboarding/events": {"event_type": "wizard_viewed", "event_id": "walk"},
}
ID_PROVIDERS.update(isolation_providers(IdProvider))  # settlement_id, dispute_id, case_id
BODIES.update(ISOLATION_BODIES)
ID_PROVIDERS.update(market_isolation_providers(IdProvider))  # listing_id, rfq_id, bid_id, agreement_id
BODIES.update(MARKET_ISOLATION_BODIES)
ID_PROVIDERS.update(policy_isolation_providers(IdProvider, ID_PROVIDERS["tenant_id"]))  # policy ids
BODIES.update(POLICY_ISOLATION_BODIES)
# A tenant key on a route for platform keys only: the same refusal whatever the ids.
PLATFORM_ONLY = (403, "PLATFORM_KEY_REQUIRED")


def _body(operation: Operation) -> dict[str, Any] | None:
    name = f"{operation.method} {operation.path}"
    request_body = operation.spec.get("requestBody")
    if request_body is None:
        return None
    schema = operation.body_schema() or {}
    examples = schema.get("examples") or []
    if name in BODIES or examples:
        return BODIES.get(name) or examples[0]
    if not request_body.get("required"):
        return None
    pytest.fail(f"{name} requires a body: add one to BODIES in {__file__} (or an example to its schema)")


def _parameters(operation: Operation) -> list[str]:
    names = [p["name"] for p in operation.parameters("path")]
    missing = [name for name in names if name not in ID_PROVIDERS]
    if missing:
        pytest.fail(
            f"{operation.method} {operation.path}: no id provider for path parameter(s) {missing}. Add an "
            f"IdProvider to ID_PROVIDERS in {__file__}: `make` creates the victim tenant's record (through "
            "tests/api/factories.py or the API as the victim) and returns the id that names it; `absent` "
            "is a valid id no tenant has."
        )
    return names


def _call(client: TestClient, operation: Operation, token: str, ids: dict[str, str]) -> tuple[int, Any]:
    """The answer as (status, body with each id replaced by its parameter's name, request id dropped)."""
    path = re.sub(r"{(\w+)}", lambda match: ids[match.group(1)], operation.path)
    headers = auth(token, **{"Idempotency-Key": f"isolation-{uuid.uuid4().hex}"})
    response = client.request(operation.method, path, json=_body(operation), headers=headers)
    text = response.text
    for name, value in sorted(ids.items(), key=lambda item: -len(item[1])):
        text = text.replace(value, "{" + name + "}")
    try:
        body = json.loads(text)
    except ValueError:
        body = text
    if isinstance(body, dict):
        body.pop("request_id", None)
    return response.status_code, body


@pytest.fixture
def victim(factory: Factory, database_url: str, tmp_path: Path) -> Iterator[Victim]:
    artifacts = tmp_path / "artifacts"
    with TestClient(create_app(ApiSettings(database_url=database_url, artifacts_dir=artifacts))) as client:
        yield Victim(factory, client, artifacts, factory.key(VICTIM, *Scope))


def test_every_path_parameter_has_an_id_provider() -> None:
    names = {p["name"] for operation in OPERATIONS for p in operation.parameters("path")}
    assert names <= set(ID_PROVIDERS), (
        f"add providers for {sorted(names - set(ID_PROVIDERS))} to ID_PROVIDERS"
    )
    assert len(OPERATIONS) >= 5  # triage, invoice, period, close, reopen


@pytest.mark.parametrize(
    "operation", OPERATIONS, ids=lambda operation: f"{operation.method} {operation.path}"
)
def test_another_tenants_ids_are_a_404(victim: Victim, operation: Operation) -> None:
    names = _parameters(operation)
    real = {name: ID_PROVIDERS[name].make(victim) for name in names}
    absent = {name: ID_PROVIDERS[name].absent for name in names}
    reads = [o for o in OPERATIONS if o.method == "GET"]
    before = {o.path: _call(victim.client, o, victim.token, {n: ID_PROVIDERS[n].make(victim) for n in _parameters(o)})
              for o in reads}  # fmt: skip
    intruder = victim.factory.key(INTRUDER, *Scope)

    status, body = _call(victim.client, operation, intruder, real)
    where = f"{operation.method} {operation.path} with {VICTIM}'s {real}: {status} {body}"
    assert status < 500, where
    platform_only = isinstance(body, dict) and (status, body.get("code")) == PLATFORM_ONLY
    if any(ID_PROVIDERS[name].names_a_record for name in names) and not platform_only:
        assert status == 404, where
    assert (status, body) == _call(victim.client, operation, intruder, absent), f"distinguishable: {where}"
    assert SECRET_OWNER not in json.dumps(body), where

    after = {o.path: _call(victim.client, o, victim.token, {n: ID_PROVIDERS[n].make(victim) for n in _parameters(o)})
             for o in reads}  # fmt: skip
    assert after == before, f"the intruder's {operation.method} {operation.path} changed {VICTIM}'s records"


def test_a_path_parameter_without_a_provider_fails_the_walk_saying_what_to_add() -> None:
    route = Operation(
        "GET", "/ops/widgets/{widget_id}", {"parameters": [{"name": "widget_id", "in": "path"}]}, {}
    )
    with pytest.raises(
        pytest.fail.Exception, match=r"no id provider for path parameter\(s\) \['widget_id'\]"
    ):
        _parameters(route)
