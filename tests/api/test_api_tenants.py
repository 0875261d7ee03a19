"""Tenant bootstrap and the key routes (issue 17): idempotent bootstrap, conflicts, keys, rotation."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.audit.models import AuditLogEntry
from api.core.database import Database
from api.idempotency.models import IdempotencyRecord
from api.tenants.keys import KeySettings
from api.tenants.models import ApiKey, Tenant
from tests.api.factories import Factory, auth

BOOTSTRAP = "/ops/tenants/bootstrap"
BODY = {
    "tenant_id": "tnt_newco",
    "name": "NewCo",
    "contact_email": "ops@newco.example",
    "api_key": {"scopes": ["ops_write", "ops_read", "ops_read"], "description": "first key"},
    "billing": {"plan": "builder", "hard_limit_enforced": True},
}


def rows(database_url: str, model: type, **where: str) -> list:
    database = Database(database_url)
    try:
        with database.session() as session:
            query = select(model)
            for column, value in where.items():
                query = query.where(getattr(model, column) == value)
            return list(session.scalars(query))
    finally:
        database.dispose()


def test_bootstrap_creates_tenant_key_plan_and_policy(
    client: TestClient, factory: Factory, database_url: str
) -> None:
    platform = factory.platform_key("ops_write", "ops_read")
    response = client.post(BOOTSTRAP, json=BODY, headers=auth(platform))
    assert response.status_code == 201, response.text
    body = response.json()
    key = body["api_key"]
    assert key["scopes"] == ["ops_read", "ops_write"] and key["token"].startswith(f"sk_{key['key_id']}.")
    assert body["billing"] == {"plan": "builder", "hard_limit_enforced": True}
    assert body["policy_ref"] == "balanced_guardrails_v1"
    assert body["tenant"]["contact_email"] == "ops@newco.example"
    assert body["env"]["SETTLD_API_KEY"] == key["token"]
    assert "export SETTLD_TENANT_ID=tnt_newco" in body["export_commands"]
    assert body["next"]["healthcheck_curl"].endswith("/healthz")
    # The new key works, on the tenant's own routes.
    checklist = client.get("/v1/tenants/tnt_newco/onboarding/checklist", headers=auth(key["token"]))
    assert checklist.status_code == 200
    actions = [entry.action for entry in rows(database_url, AuditLogEntry, tenant_id="tnt_newco")]
    assert {"TENANT_CREATE", "API_KEY_CREATE", "TENANT_BOOTSTRAP"} <= set(actions)
    bootstrap_audit = rows(database_url, AuditLogEntry, action="TENANT_BOOTSTRAP")[0]
    assert bootstrap_audit.actor_key_id == platform.split(".")[0].removeprefix("sk_")
    assert json.loads(bootstrap_audit.details_json)["api_key_id"] == key["key_id"]


def test_bootstrap_twice_gives_one_tenant_and_one_key(
    client: TestClient, factory: Factory, database_url: str
) -> None:
    platform = factory.platform_key("ops_write")
    first = client.post(BOOTSTRAP, json=BODY, headers=auth(platform, **{"Idempotency-Key": "boot-1"}))
    replay = client.post(BOOTSTRAP, json=BODY, headers=auth(platform, **{"Idempotency-Key": "boot-1"}))
    repeat = client.post(BOOTSTRAP, json=BODY, headers=auth(platform))
    # The flat form of the same body, with the defaults spelt out, is the same bootstrap.
    flat = {key: value for key, value in BODY.items() if key not in ("api_key", "billing")}
    flat |= {
        "scopes": ["ops_read", "ops_write"],
        "description": "first key",
        "plan": "builder",
        "hard_limit_enforced": True,
    }
    flat_repeat = client.post(BOOTSTRAP, json=flat, headers=auth(platform))
    assert [r.status_code for r in (first, replay, repeat, flat_repeat)] == [201, 200, 200, 200]
    key_id = first.json()["api_key"]["key_id"]
    for later in (replay, repeat, flat_repeat):
        assert later.json()["api_key"]["key_id"] == key_id and later.json()["api_key"]["token"] is None
        assert "SETTLD_API_KEY" not in later.json()["env"] and later.json()["next"]["rotate_key"]
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert len(rows(database_url, Tenant, tenant_id="tnt_newco")) == 1
    assert len(rows(database_url, ApiKey, tenant_id="tnt_newco")) == 1
    # The stored answer never holds the secret.
    stored = rows(database_url, IdempotencyRecord, idempotency_key="boot-1")[0].response_body
    assert first.json()["api_key"]["token"] not in stored


def test_a_changed_body_is_a_conflict_naming_the_fields(client: TestClient, factory: Factory) -> None:
    platform = factory.platform_key("ops_write")
    assert client.post(BOOTSTRAP, json=BODY, headers=auth(platform)).status_code == 201
    changed = {**BODY, "name": "NewCo Ltd", "billing": {"plan": "growth"}}
    response = client.post(BOOTSTRAP, json=changed, headers=auth(platform))
    assert (response.status_code, response.json()["code"]) == (409, "TENANT_BOOTSTRAP_CONFLICT")
    fields = [diff["field"] for diff in response.json()["differences"]]
    assert fields == ["billing.hard_limit_enforced", "billing.plan", "name"]  # sorted
    # The same Idempotency-Key with another body is the kit's conflict.
    client.post(BOOTSTRAP, json={"tenant_id": "tnt_two"}, headers=auth(platform, **{"Idempotency-Key": "k"}))
    reused = client.post(
        BOOTSTRAP, json={"tenant_id": "tnt_3"}, headers=auth(platform, **{"Idempotency-Key": "k"})
    )
    assert reused.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_bootstrap_defaults_and_bad_input(client: TestClient, factory: Factory) -> None:
    platform = factory.platform_key("ops_write")
    response = client.post(BOOTSTRAP, json={"tenant_id": "tnt_min"}, headers=auth(platform))
    assert response.status_code == 201
    body = response.json()
    assert body["api_key"]["scopes"] == ["finance_read", "finance_write", "ops_read", "ops_write"]
    assert body["api_key"]["description"] == "tenant bootstrap"
    assert body["billing"] == {"plan": "free", "hard_limit_enforced": True}  # the free plan has a limit
    cases = [
        ({"tenant_id": "tnt_x", "scopes": ["ops_read", "admin"]}, 400, "SCOPE_UNKNOWN"),
        ({"tenant_id": "tnt_x", "api_key": {"scopes": []}}, 400, "SCOPE_UNKNOWN"),
        ({"tenant_id": "tnt_x", "plan": "platinum"}, 400, "PLAN_UNKNOWN"),
        ({"tenant_id": "_platform"}, 400, "TENANT_ID_INVALID"),
        ({"tenant_id": "tnt_x", "plan": "free", "billing": {"plan": "free"}}, 422, "VALIDATION_FAILED"),
        ({"tenant_id": "tnt_x", "api_key": {"expires_at": "2030-01-01T00:00:00"}}, 422, "VALIDATION_FAILED"),
        ({"name": "no id"}, 422, "VALIDATION_FAILED"),
        ({"tenant_id": "tnt_x", "expires_at": "2020-01-01T00:00:00Z"}, 422, "VALIDATION_FAILED"),
    ]
    for payload, status, code in cases:
        refused = client.post(BOOTSTRAP, json=payload, headers=auth(platform))
        assert (refused.status_code, refused.json()["code"]) == (status, code), payload
    assert refused.json()["code"] == "VALIDATION_FAILED"
    unknown = [
        d for d in client.post(BOOTSTRAP, json=cases[0][0], headers=auth(platform)).json()["unknown_scopes"]
    ]
    assert unknown == ["admin"]


def test_key_routes_issue_list_revoke_and_rotate(app: FastAPI, client: TestClient, factory: Factory) -> None:
    platform = factory.platform_key("ops_write", "ops_read")
    first = client.post(BOOTSTRAP, json=BODY, headers=auth(platform)).json()["api_key"]
    issued = client.post("/ops/tenants/tnt_newco/keys", json={"scopes": ["ops_read"]}, headers=auth(platform))
    assert issued.status_code == 201
    second = issued.json()["api_key"]
    listed = client.get("/ops/tenants/tnt_newco/keys", headers=auth(platform)).json()["items"]
    assert [key["key_id"] for key in listed] == [first["key_id"], second["key_id"]]
    assert all("token" not in key and "secret_sha256" not in key for key in listed)

    revoked = client.post(f"/ops/tenants/tnt_newco/keys/{second['key_id']}/revoke", headers=auth(platform))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    gone = client.get("/v1/tenants/tnt_newco/onboarding/checklist", headers=auth(second["token"]))
    assert gone.json()["code"] == "AUTH_KEY_REVOKED"

    app.state.key_settings = KeySettings(key_rotation_grace_seconds=3600)
    rotated = client.post(f"/ops/tenants/tnt_newco/keys/{first['key_id']}/rotate", headers=auth(platform))
    assert rotated.status_code == 201, rotated.text
    successor = rotated.json()["api_key"]
    assert successor["scopes"] == first["scopes"] and successor["token"]
    # Both work during the grace period; the old one stops at its end.
    for token in (first["token"], successor["token"]):
        assert (
            client.get("/v1/tenants/tnt_newco/onboarding/checklist", headers=auth(token)).status_code == 200
        )
    old = [key for key in client.get("/ops/tenants/tnt_newco/keys", headers=auth(platform)).json()["items"]
           if key["key_id"] == first["key_id"]][0]  # fmt: skip
    assert old["replaced_by_key_id"] == successor["key_id"]
    created = client.get("/ops/tenants/tnt_newco", headers=auth(platform)).json()
    assert created["billing_plan"] == "builder" and created["policy_ref"] == "balanced_guardrails_v1"
    again = client.post(f"/ops/tenants/tnt_newco/keys/{first['key_id']}/rotate", headers=auth(platform))
    assert (again.status_code, again.json()["code"]) == (409, "API_KEY_NOT_LIVE")


def test_the_grace_period_ends(factory: Factory, database_url: str) -> None:
    from api.audit.service import AuditContext
    from api.core.database import utc_now
    from api.tenants.keys import rotate_key
    from api.tenants.problems import AuthKeyRevoked
    from api.tenants.service import resolve_token

    token = factory.key("acme", "ops_read")
    key_id = token.split(".")[0].removeprefix("sk_")
    with factory.transaction() as session:
        rotate_key(session, tenant_id="acme", key_id=key_id, grace=timedelta(hours=1),
                   context=AuditContext("acme", None, "test"))  # fmt: skip
    with factory.transaction() as session:
        assert resolve_token(session, token).key_id == key_id
        try:
            resolve_token(session, token, at=utc_now() + timedelta(hours=1, seconds=1))
        except AuthKeyRevoked:
            pass
        else:
            raise AssertionError("the rotated key outlived its grace period")


def test_unknown_tenant_and_key_are_404(client: TestClient, factory: Factory) -> None:
    platform = factory.platform_key("ops_write", "ops_read")
    assert client.get("/ops/tenants/nobody", headers=auth(platform)).json()["code"] == "TENANT_NOT_FOUND"
    assert client.get("/ops/tenants/_platform", headers=auth(platform)).json()["code"] == "TENANT_NOT_FOUND"
    factory.key("globex", "ops_read")
    other = client.post("/ops/tenants/acme/keys/0123456789abcdef0123/revoke", headers=auth(platform))
    assert (other.status_code, other.json()["code"]) == (404, "API_KEY_NOT_FOUND")
    count = Database(factory.database_url)
    try:
        with count.session() as session:
            assert session.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.is_platform)) == 1
    finally:
        count.dispose()


def test_the_cli_makes_platform_keys_and_rotates(client: TestClient, database_url: str) -> None:
    import typer
    from typer.testing import CliRunner

    from settld.cli.api_commands import keys_app

    cli = typer.Typer()
    cli.add_typer(keys_app, name="keys")
    runner = CliRunner()
    made = runner.invoke(cli, ["keys", "create", "--platform", "--scope", "ops_write", "--scope", "ops_read",
                               "--database-url", database_url])  # fmt: skip
    assert made.exit_code == 0, made.output
    platform = made.output.strip().splitlines()[-1]
    response = client.post(BOOTSTRAP, json={"tenant_id": "tnt_cli"}, headers=auth(platform))
    assert response.status_code == 201
    key_id = response.json()["api_key"]["key_id"]
    rotated = runner.invoke(
        cli, ["keys", "rotate", key_id, "--grace-seconds", "0", "--database-url", database_url]
    )
    assert rotated.exit_code == 0, rotated.output
    successor = rotated.output.strip().splitlines()[-1]
    old = client.get(
        "/v1/tenants/tnt_cli/onboarding/checklist", headers=auth(response.json()["api_key"]["token"])
    )
    assert old.json()["code"] == "AUTH_KEY_REVOKED"  # no grace: revoked at once
    assert client.get("/v1/tenants/tnt_cli/onboarding/checklist", headers=auth(successor)).status_code == 200
    both = runner.invoke(cli, ["keys", "create", "--platform", "--tenant", "x", "--scope", "ops_read",
                               "--database-url", database_url])  # fmt: skip
    assert both.exit_code == 2
