"""Tenants and API keys: bootstrap, issue, revoke, list, and resolve a bearer token.

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
from api.tenants.models import ApiKey, Scope, Tenant
from api.tenants.problems import AuthInvalid, AuthKeyRevoked
from settld.core import sha256_hex

TENANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
TOKEN_PATTERN = re.compile(r"^sk_(?P<key_id>[0-9a-f]{20})\.(?P<secret>[A-Za-z0-9_-]{43})$")
# Compared against when the key id is unknown, so an unknown id costs the same as a wrong secret.
_DUMMY_HASH = sha256_hex("settld-unknown-key")


class TenantError(ValueError):
    """Invalid tenant or key input (the CLI prints it; HTTP never reaches these paths)."""


@dataclass(frozen=True)
class CreatedKey:
    key_id: str
    tenant_id: str
    scopes: list[str]
    token: str


def validate_tenant_id(tenant_id: str) -> str:
    if not TENANT_ID_PATTERN.match(tenant_id or ""):
        raise TenantError(f"tenant id must match {TENANT_ID_PATTERN.pattern}, got {tenant_id!r}")
    return tenant_id


def parse_scopes(values: Iterable[str]) -> list[str]:
    scopes = sorted({value.strip() for value in values})
    unknown = [scope for scope in scopes if scope not in Scope.__members__]
    if unknown or not scopes:
        raise TenantError(f"scopes must be among {', '.join(Scope)}; got {', '.join(unknown) or 'none'}")
    return scopes


def ensure_tenant(
    session: Session, *, tenant_id: str, name: str | None = None, request_id: str | None = None
) -> bool:
    """Create the tenant if it does not exist; returns whether it was created (the caller commits)."""
    validate_tenant_id(tenant_id)
    if session.get(Tenant, tenant_id) is not None:
        return False
    try:
        with session.begin_nested():  # a savepoint: a concurrent creation undoes only this insert
            session.add(Tenant(tenant_id=tenant_id, name=name, created_at=utc_now()))
    except IntegrityError:  # created concurrently: the goal (tenant exists) is met
        return False
    append_audit(
        session,
        context=AuditContext(tenant_id, None, request_id),
        action="TENANT_CREATE",
        target_type="tenant",
        target_id=tenant_id,
        details={"tenant_id": tenant_id, "name": name},
    )
    return True


def create_key(
    session: Session,
    *,
    tenant_id: str,
    scopes: Iterable[str],
    description: str | None = None,
    request_id: str | None = None,
) -> CreatedKey:
    """Issue a key for an existing tenant; the token is returned here and never again."""
    scope_list = parse_scopes(scopes)
    if session.get(Tenant, validate_tenant_id(tenant_id)) is None:
        raise TenantError(f"tenant {tenant_id!r} does not exist")
    key_id, secret = secrets.token_hex(10), secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            key_id=key_id,
            tenant_id=tenant_id,
            secret_sha256=sha256_hex(secret),
            scopes=scope_list,
            description=description,
            created_at=utc_now(),
        )
    )
    append_audit(
        session,
        context=AuditContext(tenant_id, None, request_id),
        action="API_KEY_CREATE",
        target_type="api_key",
        target_id=key_id,
        details={"key_id": key_id, "scopes": scope_list, "description": description},
    )
    return CreatedKey(key_id=key_id, tenant_id=tenant_id, scopes=scope_list, token=f"sk_{key_id}.{secret}")


def revoke_key(session: Session, *, key_id: str, request_id: str | None = None) -> ApiKey:
    """Revoke a key (idempotent: a revoked key keeps its first revocation time)."""
    key = session.scalars(select(ApiKey).where(ApiKey.key_id == key_id).with_for_update()).one_or_none()
    if key is None:
        raise TenantError(f"API key {key_id!r} does not exist")
    if key.revoked_at is None:
        key.revoked_at = utc_now()
        append_audit(
            session,
            context=AuditContext(key.tenant_id, None, request_id),
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
    """The live key a bearer token names; 401 AUTH_INVALID (unknown, malformed, wrong secret) or
    AUTH_KEY_REVOKED otherwise."""
    match = TOKEN_PATTERN.match(token)
    if match is None:
        raise AuthInvalid("The API key is malformed.")
    key = session.get(ApiKey, match["key_id"])
    presented = sha256_hex(match["secret"])
    if not hmac.compare_digest(presented, key.secret_sha256 if key else _DUMMY_HASH) or key is None:
        raise AuthInvalid("The API key is not valid.")
    if key.revoked_at is not None and key.revoked_at <= (at or utc_now()):
        raise AuthKeyRevoked()
    return key
