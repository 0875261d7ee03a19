"""Tenants and API keys: issue, revoke, list, and resolve a bearer token (rotation and platform keys:
`keys.py`; bootstrap: `bootstrap.py`).

A token reads `sk_<keyId>.<secret>`: the key id is public (it appears in audit rows and listings), the secret
is 32 random bytes (base64url) shown once at creation. Only sha256(secret) is stored; with that much entropy
a slow password hash buys nothing, and the comparison runs in constant time.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.audit.service import AuditContext, append_audit
from api.core.database import utc_now
from api.core.errors import ValidationFailed
from api.onboarding.service import record_witnessed
from api.onboarding.steps import API_KEY_CREATED, SIGNUP
from api.tenants.models import PLATFORM_TENANT_ID, ApiKey, Scope, Tenant
from api.tenants.problems import (
    ApiKeyNotFound,
    AuthInvalid,
    AuthKeyExpired,
    AuthKeyRevoked,
    ScopeUnknown,
    TenantError,
    TenantIdInvalid,
    TenantNotFound,
)
from settld.core import sha256_hex

__all__ = ["TenantError"]  # re-exported: the CLI catches it

TENANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
TOKEN_PATTERN = re.compile(r"^sk_(?P<key_id>[0-9a-f]{20})\.(?P<secret>[A-Za-z0-9_-]{43})$")
# Compared against when the key id is unknown, so an unknown id costs the same as a wrong secret.
_DUMMY_HASH = sha256_hex("settld-unknown-key")


@dataclass(frozen=True)
class CreatedKey:
    key_id: str
    tenant_id: str
    scopes: list[str]
    token: str
    expires_at: datetime | None = None
    description: str | None = None


def validate_tenant_id(tenant_id: str) -> str:
    if not TENANT_ID_PATTERN.match(tenant_id or ""):
        raise TenantIdInvalid(f"tenant id must match {TENANT_ID_PATTERN.pattern}, got {tenant_id!r}")
    return tenant_id


def parse_scopes(values: Iterable[str]) -> list[str]:
    """De-duplicated and sorted; an unknown scope, or none at all, is SCOPE_UNKNOWN."""
    scopes = sorted({value.strip() for value in values})
    unknown = [scope for scope in scopes if scope not in Scope.__members__]
    if unknown or not scopes:
        raise ScopeUnknown(
            f"scopes must be among {', '.join(Scope)}; got {', '.join(unknown) or 'none'}",
            unknown_scopes=unknown,
            known_scopes=sorted(Scope),
        )
    return scopes


def ensure_tenant(
    session: Session,
    *,
    tenant_id: str,
    name: str | None = None,
    request_id: str | None = None,
    actor_key_id: str | None = None,
) -> bool:
    """Create the tenant if it does not exist; returns whether it was created (the caller commits).
    Its creation is the onboarding step `signup`, witnessed here."""
    validate_tenant_id(tenant_id)
    if session.get(Tenant, tenant_id) is not None:
        return False
    now = utc_now()
    try:
        with session.begin_nested():  # a savepoint: a concurrent creation undoes only this insert
            session.add(Tenant(tenant_id=tenant_id, name=name, created_at=now, revision=1))
    except IntegrityError:  # created concurrently: the goal (tenant exists) is met
        return False
    context = AuditContext(tenant_id, actor_key_id, request_id)
    append_audit(
        session,
        context=context,
        action="TENANT_CREATE",
        target_type="tenant",
        target_id=tenant_id,
        details={"tenant_id": tenant_id, "name": name},
        at=now,  # the instant of the signup it witnesses: the audit log stays in time order
    )
    record_witnessed(session, tenant_id=tenant_id, event_type=SIGNUP, at=now, context=context)
    return True


def get_tenant(session: Session, tenant_id: str) -> Tenant:
    tenant = session.get(Tenant, tenant_id) if tenant_id != PLATFORM_TENANT_ID else None
    if tenant is None:
        raise TenantNotFound(f"tenant {tenant_id!r} does not exist")
    return tenant


def create_key(
    session: Session,
    *,
    tenant_id: str,
    scopes: Iterable[str],
    description: str | None = None,
    request_id: str | None = None,
    actor_key_id: str | None = None,
    expires_at: datetime | None = None,
    source: str | None = None,
    is_platform: bool = False,
) -> CreatedKey:
    """Issue a key for an existing tenant; the token is returned here and never again. A tenant's first
    key is the onboarding step `api_key_created`, witnessed here."""
    scope_list = parse_scopes(scopes)
    if is_platform:
        tenant_id = PLATFORM_TENANT_ID
    else:
        get_tenant(session, validate_tenant_id(tenant_id))
    now = utc_now()
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed(errors=[{"loc": ["body", "expires_at"], "msg": "expires_at is not in the future",
                                        "type": "expires_at_past"}])  # fmt: skip
    key_id, secret = secrets.token_hex(10), secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            key_id=key_id,
            tenant_id=tenant_id,
            secret_sha256=sha256_hex(secret),
            scopes=scope_list,
            description=description,
            is_platform=is_platform,
            created_at=now,
            expires_at=expires_at,
        )
    )
    context = AuditContext(tenant_id, actor_key_id, request_id)
    details = {"key_id": key_id, "scopes": scope_list, "description": description, "is_platform": is_platform,
               "expires_at": expires_at.isoformat() if expires_at else None, "source": source}  # fmt: skip
    append_audit(session, context=context, action="API_KEY_CREATE", target_type="api_key", target_id=key_id,
                 details=details, at=now)  # fmt: skip
    if not is_platform:
        record_witnessed(session, tenant_id=tenant_id, event_type=API_KEY_CREATED, at=now, context=context)
    return CreatedKey(key_id=key_id, tenant_id=tenant_id, scopes=scope_list, token=f"sk_{key_id}.{secret}",
                      expires_at=expires_at, description=description)  # fmt: skip


def find_key(session: Session, *, key_id: str, tenant_id: str | None = None, lock: bool = False) -> ApiKey:
    """The key, locked if asked; API_KEY_NOT_FOUND if it does not exist or is another tenant's."""
    query = select(ApiKey).where(ApiKey.key_id == key_id)
    if tenant_id is not None:
        query = query.where(ApiKey.tenant_id == tenant_id)
    key = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if key is None:
        raise ApiKeyNotFound(f"API key {key_id!r} does not exist")
    return key


def revoke_key(
    session: Session,
    *,
    key_id: str,
    request_id: str | None = None,
    tenant_id: str | None = None,
    actor_key_id: str | None = None,
) -> ApiKey:
    """Revoke a key now (idempotent: a revoked key keeps its first revocation time; one whose revocation
    a rotation scheduled for later is revoked now)."""
    key = find_key(session, key_id=key_id, tenant_id=tenant_id, lock=True)
    now = utc_now()
    if key.revoked_at is None or key.revoked_at > now:
        key.revoked_at = now
        append_audit(
            session,
            context=AuditContext(key.tenant_id, actor_key_id, request_id),
            action="API_KEY_REVOKE",
            target_type="api_key",
            target_id=key_id,
            details={"key_id": key_id, "revoked_at": key.revoked_at.isoformat()},
        )
    return key


def list_keys(session: Session, *, tenant_id: str) -> list[ApiKey]:
    return list(
        session.scalars(
            select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.created_at, ApiKey.key_id)
        )
    )


def resolve_token(session: Session, token: str, *, at: datetime | None = None) -> ApiKey:
    """The live key a bearer token names; 401 AUTH_INVALID (unknown, malformed, wrong secret),
    AUTH_KEY_REVOKED or AUTH_KEY_EXPIRED otherwise."""
    match = TOKEN_PATTERN.match(token)
    if match is None:
        raise AuthInvalid("The API key is malformed.")
    key = session.get(ApiKey, match["key_id"])
    presented = sha256_hex(match["secret"])
    if not hmac.compare_digest(presented, key.secret_sha256 if key else _DUMMY_HASH) or key is None:
        raise AuthInvalid("The API key is not valid.")
    return assert_live(key, at=at)


def assert_live(key: ApiKey, *, at: datetime | None = None) -> ApiKey:
    """The key, if it is neither revoked nor expired at `at` (default now); AUTH_KEY_REVOKED or
    AUTH_KEY_EXPIRED otherwise. The console re-checks its session's key with it on every request."""
    now = at or utc_now()
    if key.revoked_at is not None and key.revoked_at <= now:
        raise AuthKeyRevoked()
    if key.expires_at is not None and key.expires_at <= now:
        raise AuthKeyExpired()
    return key
