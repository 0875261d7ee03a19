"""HTTP layer of tenants and their keys, for platform keys (`settld keys create --platform`): bootstrap a
tenant, read it, issue, list, revoke and rotate its keys. The CLI calls the same service functions."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from api.core.database import utc_now
from api.core.dependencies import SessionDep, WriteSessionDep
from api.core.errors import problem_responses
from api.idempotency.dependencies import IdempotencyDep, idempotent
from api.idempotency.problems import IDEMPOTENCY_PROBLEMS
from api.tenants import keys as key_service
from api.tenants import service
from api.tenants.bootstrap import bootstrap_tenant
from api.tenants.dependencies import PlatformReadDep, PlatformWriteDep
from api.tenants.problems import (
    PLATFORM_PROBLEMS,
    ApiKeyNotFound,
    ApiKeyNotLive,
    PlanUnknown,
    ScopeUnknown,
    TenantBootstrapConflict,
    TenantIdInvalid,
    TenantNotFound,
)
from api.tenants.responses import answer_once, bootstrap_response
from api.tenants.schemas import (
    BootstrapRequest,
    BootstrapResponse,
    IssuedKey,
    KeyCreateRequest,
    KeyIssued,
    KeyList,
    KeyOut,
    TenantOut,
)

router = APIRouter(prefix="/ops/tenants", tags=["tenants"])
TenantPath = Annotated[str, Path(max_length=64, description="The tenant's id.")]
KeyPath = Annotated[str, Path(max_length=32, description="The key id (between `sk_` and the dot).")]
REPEAT = {200: {"description": "A repeat (same body, or the same Idempotency-Key): no secret shown."}}


def base_url_of(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.post(
    "/bootstrap",
    status_code=201,
    response_model=BootstrapResponse,
    responses={
        **REPEAT,
        **problem_responses(
            *PLATFORM_PROBLEMS,
            *IDEMPOTENCY_PROBLEMS,
            ScopeUnknown,
            PlanUnknown,
            TenantIdInvalid,
            TenantBootstrapConflict,
        ),
    },  # fmt: skip
)
def post_bootstrap(
    request: Request,
    body: BootstrapRequest,
    session: WriteSessionDep,
    principal: PlatformWriteDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Create the tenant, its first API key, its billing plan and its starter policy (201, the token shown
    once). The same body again, or the same Idempotency-Key, is a 200 with the same tenant and key id and
    no secret; another body for the tenant is 409 TENANT_BOOTSTRAP_CONFLICT with the differing fields."""
    if idempotency.replay is not None:
        return idempotency.replay
    outcome = bootstrap_tenant(session, body=body, context=principal.audit_context, now=utc_now())
    base_url = base_url_of(request)
    shown = bootstrap_response(outcome, base_url=base_url, with_secret=True)
    repeat = dataclasses.replace(outcome, bootstrapped=False, created_key=None)
    stored = bootstrap_response(repeat, base_url=base_url, with_secret=False)
    return answer_once(idempotency, status=201 if outcome.bootstrapped else 200, shown=shown, stored=stored)


@router.get("/{tenant_id}", response_model=TenantOut,
            responses=problem_responses(*PLATFORM_PROBLEMS, TenantNotFound))  # fmt: skip
def get_tenant(session: SessionDep, principal: PlatformReadDep, tenant_id: TenantPath) -> TenantOut:
    """The tenant: name, contact, billing plan, starter policy, revision."""
    return TenantOut.model_validate(service.get_tenant(session, tenant_id))


@router.get("/{tenant_id}/keys", response_model=KeyList,
            responses=problem_responses(*PLATFORM_PROBLEMS, TenantNotFound))  # fmt: skip
def get_keys(session: SessionDep, principal: PlatformReadDep, tenant_id: TenantPath) -> KeyList:
    """The tenant's keys, oldest first (never their secrets)."""
    service.get_tenant(session, tenant_id)
    keys = service.list_keys(session, tenant_id=tenant_id)
    return KeyList(tenant_id=tenant_id, items=[KeyOut.model_validate(key) for key in keys])


@router.post(
    "/{tenant_id}/keys",
    status_code=201,
    response_model=KeyIssued,
    responses={
        **REPEAT,
        **problem_responses(*PLATFORM_PROBLEMS, *IDEMPOTENCY_PROBLEMS, TenantNotFound, ScopeUnknown),
    },  # fmt: skip
)
def post_key(
    body: KeyCreateRequest,
    session: WriteSessionDep,
    principal: PlatformWriteDep,
    idempotency: IdempotencyDep,
    tenant_id: TenantPath,
) -> Response:
    """Issue another key for the tenant (201, the token shown once; a replay of the Idempotency-Key is a 200
    without it)."""
    if idempotency.replay is not None:
        return idempotency.replay
    created = service.create_key(session, tenant_id=tenant_id, scopes=body.scopes, description=body.description,
                                 request_id=principal.request_id, actor_key_id=principal.key_id,
                                 expires_at=body.expires_at, source="ops_api")  # fmt: skip
    shown = KeyIssued(tenant_id=tenant_id, api_key=_issued(created, with_secret=True))
    stored = KeyIssued(tenant_id=tenant_id, api_key=_issued(created, with_secret=False))
    return answer_once(idempotency, status=201, shown=shown, stored=stored)


@router.post(
    "/{tenant_id}/keys/{key_id}/revoke",
    response_model=KeyOut,
    responses=problem_responses(*PLATFORM_PROBLEMS, *IDEMPOTENCY_PROBLEMS, ApiKeyNotFound),
)
@idempotent
def post_revoke(
    session: WriteSessionDep, principal: PlatformWriteDep, tenant_id: TenantPath, key_id: KeyPath
) -> KeyOut:
    """Revoke the key now (a revoked key keeps its first revocation time)."""
    key = service.revoke_key(session, key_id=key_id, tenant_id=tenant_id, request_id=principal.request_id,
                             actor_key_id=principal.key_id)  # fmt: skip
    return KeyOut.model_validate(key)


@router.post(
    "/{tenant_id}/keys/{key_id}/rotate",
    status_code=201,
    response_model=KeyIssued,
    responses={
        **REPEAT,
        **problem_responses(*PLATFORM_PROBLEMS, *IDEMPOTENCY_PROBLEMS, ApiKeyNotFound, ApiKeyNotLive),
    },  # fmt: skip
)
def post_rotate(
    request: Request,
    session: WriteSessionDep,
    principal: PlatformWriteDep,
    idempotency: IdempotencyDep,
    tenant_id: TenantPath,
    key_id: KeyPath,
) -> Response:
    """Issue the key's successor (201, its token shown once) and revoke the old key after the grace period
    (`SETTLD_API_KEY_ROTATION_GRACE_SECONDS`, default a day): both work until then."""
    if idempotency.replay is not None:
        return idempotency.replay
    settings = getattr(request.app.state, "key_settings", None) or key_service.KeySettings()
    grace = timedelta(seconds=settings.key_rotation_grace_seconds)
    created, old_revoked_at = key_service.rotate_key(session, tenant_id=tenant_id, key_id=key_id, grace=grace,
                                                     context=principal.audit_context)  # fmt: skip
    replaces = {"key_id": key_id, "revoked_at": old_revoked_at}
    shown = KeyIssued(tenant_id=tenant_id, api_key=_issued(created, with_secret=True), replaces=replaces)
    stored = KeyIssued(tenant_id=tenant_id, api_key=_issued(created, with_secret=False), replaces=replaces)
    return answer_once(idempotency, status=201, shown=shown, stored=stored)


def _issued(created: service.CreatedKey, *, with_secret: bool) -> IssuedKey:
    return IssuedKey(key_id=created.key_id, token=created.token if with_secret else None, scopes=created.scopes,
                     description=created.description, expires_at=created.expires_at)  # fmt: skip
