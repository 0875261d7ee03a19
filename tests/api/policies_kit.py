"""Shared helpers of the settlement policy tests: a policy document, registering versions and moving the
rollout through the service functions, in one write transaction each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api.audit.service import AuditContext
from api.policies import rollout
from tests.api.factories import Factory

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def context(tenant_id: str) -> AuditContext:
    return AuditContext(tenant_id, None, None)


def policy(green: int = 100, amber: int = 50, **rules: Any) -> dict[str, Any]:
    return {"mode": "automatic", "rules": {"green_release_rate_pct": green, "amber_release_rate_pct": amber,
                                           "auto_release_on_amber": True, **rules}}  # fmt: skip


def register(factory: Factory, tenant_id: str, policy_id: str, body: dict[str, Any] | None = None,
             version: int | None = None) -> dict[str, Any]:  # fmt: skip
    with factory.transaction() as session:
        registered = rollout.register(
            session, tenant_id=tenant_id, context=context(tenant_id), now=T0, policy_id=policy_id,
            policy_version=version, policy=body or policy(), verification_method=None, description=None,
            metadata=None,
        )  # fmt: skip
        return registered.version.ref


def move(factory: Factory, tenant_id: str, stage: str, ref: dict[str, Any] | None, **options: Any) -> str:
    with factory.transaction() as session:
        return rollout.move(session, tenant_id=tenant_id, stage=stage, policy_ref=ref,
                            context=context(tenant_id), now=T0, **options).action  # fmt: skip


def one_of_each(factory: Factory, tenant_id: str = "acme") -> None:
    """A row in every policy table that has a CHECK: a version (its history row) and a run's assignment."""
    from api.policies.service import resolve_policy_for_run

    register(factory, tenant_id, "pol.checked")
    with factory.transaction() as session:
        resolve_policy_for_run(session, tenant_id=tenant_id, run_id="run_checked", now=T0, actor="test")


# For tests/api/test_api_tenant_isolation.py's walk of every route with a path parameter:
#     ID_PROVIDERS.update(policy_isolation_providers(IdProvider)); BODIES.update(POLICY_ISOLATION_BODIES)
_WALK = "/v1/tenants/{tenant_id}/settlement-policies"
_REF = {"policy_id": "pol.walk", "policy_version": 1}
POLICY_ISOLATION_BODIES: dict[str, dict[str, Any]] = {
    f"POST {_WALK}": {"policy_id": "pol.walk", "policy": {"mode": "automatic"}},
    f"POST {_WALK}/rollout": {"stage": "draft", "policy_ref": _REF},
    f"POST {_WALK}/rollback": {"policy_ref": _REF},
    f"POST {_WALK}/resolve": {"run_id": "run_walk"},
    f"POST {_WALK}/presets/apply": {"preset_id": "balanced_guardrails_v1"},
}


def _victim_version(victim: Any) -> tuple[str, str]:
    """The victim's registered version pol.walk@1 (made once, through the API as the victim)."""
    if "policy" not in victim.made:
        response = victim.client.post(
            "/v1/tenants/globex/settlement-policies", json=POLICY_ISOLATION_BODIES[f"POST {_WALK}"],
            headers={"Authorization": f"Bearer {victim.token}"},
        )  # fmt: skip
        assert response.status_code in (200, 201), response.text
        victim.made["policy"] = "pol.walk"
    return "pol.walk", "1"


def policy_isolation_providers(provider: Any, tenant: Any) -> dict[str, Any]:
    """`{parameter: provider(make, absent)}` for policy_id and policy_version, and `tenant` (the walk's
    tenant_id provider) wrapped so the victim's version exists before any read under its tenant."""
    return {
        "tenant_id": provider(lambda v: (_victim_version(v), tenant.make(v))[1], tenant.absent),
        "policy_id": provider(lambda v: _victim_version(v)[0], "pol.absent"),
        "policy_version": provider(lambda v: _victim_version(v)[1], "9"),
    }
