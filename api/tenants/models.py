"""Tenants, their API keys and their bootstrap record. Only a sha256 of each key's secret is stored."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from api.core.database import Base, UTCDateTime, utc_now

# The tenant that platform keys belong to. A tenant id must start with a letter or a digit
# (TENANT_ID_PATTERN), so no client can create or bootstrap a tenant of this name.
PLATFORM_TENANT_ID = "_platform"


class Scope(StrEnum):
    """Scopes are not hierarchical: a write scope does not imply the matching read scope."""

    finance_read = "finance_read"
    finance_write = "finance_write"
    ops_read = "ops_read"
    ops_write = "ops_write"


class Tenant(Base):
    __tablename__ = "tenants"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    # The plan of the seed billing_plan_catalog and whether its hard limit is enforced (set by bootstrap).
    billing_plan: Mapped[str | None] = mapped_column(String(64))
    billing_hard_limit_enforced: Mapped[bool | None] = mapped_column(Boolean)
    # Canonical JSON of the plan terms that replace the catalog's (api/billing/catalog.py), or null.
    billing_plan_overrides: Mapped[str | None] = mapped_column(Text)
    # The starter settlement policy, a reference to a preset until the policy domain stores policies.
    policy_ref: Mapped[str | None] = mapped_column(String(100))
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiKey(Base):
    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.tenant_id"), index=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    # Sorted list of Scope values.
    scopes: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text)
    # A platform key acts on tenants (bootstrap, their keys); it belongs to PLATFORM_TENANT_ID.
    is_platform: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A revocation may lie in the future: a rotated key stays valid until its grace period ends.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replaced_by_key_id: Mapped[str | None] = mapped_column(String(32))


class TenantBootstrap(Base):
    """What a tenant was bootstrapped with (the request, defaults filled in) and the key it got, so a
    repeat is recognised: the same body answers with the same tenant and key, another body is a 409."""

    __tablename__ = "tenant_bootstraps"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.tenant_id"), primary_key=True)
    request_json: Mapped[str] = mapped_column(Text)  # canonical JSON of the normalised request
    request_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(32))
    actor_key_id: Mapped[str | None] = mapped_column(String(32))
    bootstrapped_at: Mapped[datetime] = mapped_column(UTCDateTime())
