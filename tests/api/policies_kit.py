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
