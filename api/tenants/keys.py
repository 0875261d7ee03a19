"""Platform keys and key rotation.

A platform key belongs to the reserved tenant `_platform` (no client can create a tenant of that name) and
acts on tenants: bootstrap, their keys, their onboarding. Rotating a key issues a successor with the same
scopes, description and expiry and schedules the old key's revocation `grace` later, so a deployment can
swap secrets without a moment where neither works (`SETTLD_API_KEY_ROTATION_GRACE_SECONDS`, default a day).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.audit.service import AuditContext, append_audit
from api.core.database import utc_now
from api.tenants.models import PLATFORM_TENANT_ID, Tenant
from api.tenants.problems import ApiKeyNotLive
from api.tenants.service import CreatedKey, create_key, find_key

MAX_GRACE_SECONDS = 30 * 24 * 3600


class KeySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SETTLD_API_", extra="ignore")

    # How long a rotated key keeps working beside its successor.
    key_rotation_grace_seconds: int = Field(default=24 * 3600, ge=0, le=MAX_GRACE_SECONDS)


def create_platform_key(
    session: Session, *, scopes: Iterable[str], description: str | None = None, request_id: str | None = None
) -> CreatedKey:
    if session.get(Tenant, PLATFORM_TENANT_ID) is None:
        try:
            with session.begin_nested():
                session.add(Tenant(tenant_id=PLATFORM_TENANT_ID, name="Settld platform", created_at=utc_now(),
                                   revision=1))  # fmt: skip
        except IntegrityError:
            pass  # created concurrently
    return create_key(session, tenant_id=PLATFORM_TENANT_ID, scopes=scopes, description=description,
                      request_id=request_id, is_platform=True)  # fmt: skip


def rotate_key(
    session: Session,
    *,
    tenant_id: str,
    key_id: str,
    grace: timedelta,
    context: AuditContext,
    now: datetime | None = None,
) -> tuple[CreatedKey, datetime]:
    """Issue the key's successor and schedule the old key's revocation at now + grace (returned). A key
    that is revoked, expired or already rotated is API_KEY_NOT_LIVE: rotate its successor instead."""
    now = now or utc_now()
    old = find_key(session, key_id=key_id, tenant_id=tenant_id, lock=True)
    if old.revoked_at is not None or (old.expires_at is not None and old.expires_at <= now):
        raise ApiKeyNotLive(key_id=old.key_id, revoked_at=old.revoked_at.isoformat() if old.revoked_at else None,
                            replaced_by_key_id=old.replaced_by_key_id)  # fmt: skip
    new = create_key(session, tenant_id=tenant_id, scopes=old.scopes, description=old.description,
                     request_id=context.request_id, actor_key_id=context.actor_key_id,
                     expires_at=old.expires_at, source="rotation")  # fmt: skip
    old.revoked_at, old.replaced_by_key_id = now + grace, new.key_id
    append_audit(
        session,
        context=AuditContext(tenant_id, context.actor_key_id, context.request_id),
        action="API_KEY_ROTATE",
        target_type="api_key",
        target_id=key_id,
        details={
            "key_id": key_id,
            "replaced_by_key_id": new.key_id,
            "revoked_at": old.revoked_at.isoformat(),
            "grace_seconds": int(grace.total_seconds()),
        },  # fmt: skip
    )
    return new, old.revoked_at
