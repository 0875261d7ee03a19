"""`POST /ops/tenants/bootstrap`: a tenant, its first key, its billing plan and its starter policy in one
idempotent call.

The request is normalised (defaults filled in, scopes de-duplicated and sorted, times in UTC) and kept in
`tenant_bootstraps`. A repeat with the same normalised body answers with the same tenant and key id and
mints nothing (the secret is not shown again); another body for the same tenant is 409
TENANT_BOOTSTRAP_CONFLICT naming each differing field. A tenant that exists without a bootstrap (made by
`settld keys create`) is bootstrapped as a new one would be.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.audit.service import AuditContext, append_audit
from api.tenants.models import Scope, Tenant, TenantBootstrap
from api.tenants.problems import PlanUnknown, TenantBootstrapConflict
from api.tenants.schemas import BootstrapRequest
from api.tenants.service import (
    CreatedKey,
    create_key,
    ensure_tenant,
    get_tenant,
    parse_scopes,
    validate_tenant_id,
)
from settld.core import canonical_json, sha256_hex
from settld.vocabulary import read_seed

DEFAULT_SCOPES = tuple(sorted(Scope))  # the reference's defaults that this API knows (audit is ops_read)
DEFAULT_KEY_DESCRIPTION = "tenant bootstrap"
DEFAULT_PLAN = "free"
# The starter settlement policy: a preset of the policy domain, recorded by reference until it exists.
STARTER_POLICY = "balanced_guardrails_v1"
PLAN_HARD_LIMITS = {
    row["plan"]: int(row["hard_limit_verified_runs"]) for row in read_seed("billing_plan_catalog")
}


@dataclass(frozen=True)
class BootstrapOutcome:
    tenant: Tenant
    request: dict[str, Any]  # the normalised request
    key_id: str | None
    created_key: CreatedKey | None  # only when this call minted it: the secret is in here
    bootstrapped: bool  # this call did the bootstrap (201); False for a repeat (200)


def _utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def normalise(body: BootstrapRequest) -> dict[str, Any]:
    """The request with every default filled in: what two bodies are compared by."""
    key, billing = body.nested_key(), body.nested_billing()
    plan = billing.plan if billing.plan is not None else DEFAULT_PLAN
    if plan not in PLAN_HARD_LIMITS:
        raise PlanUnknown(
            f"plan {plan!r} is not in the plan catalog", plan=plan, known_plans=sorted(PLAN_HARD_LIMITS)
        )
    hard_limit = billing.hard_limit_enforced
    return {
        "tenant_id": validate_tenant_id(body.tenant_id),
        "name": body.name,
        "contact_email": body.contact_email,
        "api_key": {
            "create": key.create,
            "scopes": parse_scopes(key.scopes if key.scopes is not None else DEFAULT_SCOPES) if key.create else [],
            "description": (key.description if key.description is not None else DEFAULT_KEY_DESCRIPTION)
            if key.create else None,
            "expires_at": _utc(key.expires_at) if key.create else None,
        },
        "billing": {
            "plan": plan,
            "hard_limit_enforced": hard_limit if hard_limit is not None else PLAN_HARD_LIMITS[plan] > 0,
        },
        "policy_ref": STARTER_POLICY,
    }  # fmt: skip


def differences(
    recorded: dict[str, Any], requested: dict[str, Any], prefix: str = ""
) -> list[dict[str, Any]]:
    """Every dotted field whose value differs (in the recorded, canonical order: sorted)."""
    found = []
    for field in dict.fromkeys([*recorded, *requested]):
        old, new = recorded.get(field), requested.get(field)
        if isinstance(old, dict) and isinstance(new, dict):
            found += differences(old, new, f"{prefix}{field}.")
        elif old != new:
            found.append({"field": f"{prefix}{field}", "recorded": old, "requested": new})
    return found


def _repeat(session: Session, record: TenantBootstrap, request: dict[str, Any]) -> BootstrapOutcome:
    if diffs := differences(json.loads(record.request_json), request):
        raise TenantBootstrapConflict(
            f"tenant {record.tenant_id!r} was bootstrapped with other values: "
            + ", ".join(diff["field"] for diff in diffs),
            tenant_id=record.tenant_id,
            differences=diffs,
        )
    return BootstrapOutcome(get_tenant(session, record.tenant_id), request, record.key_id, None, False)


def bootstrap_tenant(
    session: Session, *, body: BootstrapRequest, context: AuditContext, now: datetime
) -> BootstrapOutcome:
    request = normalise(body)
    tenant_id = request["tenant_id"]
    record = session.get(TenantBootstrap, tenant_id, with_for_update=True)
    if record is not None:
        return _repeat(session, record, request)
    tenant_created = ensure_tenant(session, tenant_id=tenant_id, name=request["name"],
                                   request_id=context.request_id, actor_key_id=context.actor_key_id)  # fmt: skip
    request_json = canonical_json(request)
    record = TenantBootstrap(tenant_id=tenant_id, request_json=request_json, request_hash=sha256_hex(request_json),
                             actor_key_id=context.actor_key_id, bootstrapped_at=now)  # fmt: skip
    try:
        with session.begin_nested():  # a concurrent bootstrap of the same tenant: the first one wins
            session.add(record)
    except IntegrityError:
        winner = session.get(TenantBootstrap, tenant_id, populate_existing=True)
        assert winner is not None
        return _repeat(session, winner, request)
    tenant = get_tenant(session, tenant_id)
    billing = request["billing"]
    tenant.name = request["name"] if request["name"] is not None else tenant.name
    tenant.contact_email = request["contact_email"]
    tenant.billing_plan, tenant.billing_hard_limit_enforced = billing["plan"], billing["hard_limit_enforced"]
    tenant.policy_ref, tenant.updated_at = STARTER_POLICY, now
    if not tenant_created:
        tenant.revision += 1
    key = None
    if request["api_key"]["create"]:
        key = create_key(session, tenant_id=tenant_id, scopes=request["api_key"]["scopes"],
                         description=request["api_key"]["description"], request_id=context.request_id,
                         actor_key_id=context.actor_key_id, expires_at=body.nested_key().expires_at,
                         source="tenant_bootstrap")  # fmt: skip
        record.key_id = key.key_id
    append_audit(
        session,
        context=AuditContext(tenant_id, context.actor_key_id, context.request_id),
        action="TENANT_BOOTSTRAP",
        target_type="tenant",
        target_id=tenant_id,
        details={
            "tenant_created": tenant_created,
            "billing_changed": True,
            "plan": billing["plan"],
            "hard_limit_enforced": billing["hard_limit_enforced"],
            "api_key_created": key is not None,
            "api_key_id": key.key_id if key else None,
            "policy_ref": STARTER_POLICY,
            "request_hash": record.request_hash,
        },  # fmt: skip
    )
    return BootstrapOutcome(tenant, request, record.key_id, key, True)
