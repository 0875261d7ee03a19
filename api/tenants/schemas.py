"""Request and response bodies of the tenant and key routes (snake_case JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from api.core.schemas import RequestModel


class ApiKeyIn(RequestModel):
    create: bool = Field(default=True, description="Create the tenant's first API key (default true).")
    scopes: list[str] | None = Field(default=None, max_length=20,
                                     description="Default: every scope. De-duplicated and sorted.")  # fmt: skip
    description: str | None = Field(default=None, max_length=500)
    expires_at: AwareDatetime | None = Field(
        default=None, description="ISO-8601 with an offset; none by default."
    )


class BillingIn(RequestModel):
    plan: str | None = Field(
        default=None, max_length=64, description="A plan of the catalog; default `free`."
    )
    hard_limit_enforced: bool | None = Field(default=None, description="Default: the plan has a hard limit.")


class BootstrapRequest(RequestModel):
    """The nested form (`api_key {...}`, `billing {...}`), or the old service's flat one (`scopes`,
    `plan`, ...) — not both for the same part."""

    tenant_id: str = Field(max_length=64)
    name: str | None = Field(default=None, max_length=200)
    contact_email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    api_key: ApiKeyIn | None = None
    billing: BillingIn | None = None
    create_api_key: bool | None = None
    scopes: list[str] | None = Field(default=None, max_length=20)
    description: str | None = Field(default=None, max_length=500)
    expires_at: AwareDatetime | None = None
    plan: str | None = Field(default=None, max_length=64)
    hard_limit_enforced: bool | None = None

    @model_validator(mode="after")
    def _one_form_per_part(self) -> BootstrapRequest:
        flat_key = {"create_api_key", "scopes", "description", "expires_at"} & self.model_fields_set
        flat_billing = {"plan", "hard_limit_enforced"} & self.model_fields_set
        if self.api_key is not None and flat_key:
            raise ValueError(f"give the key in `api_key` or flat ({', '.join(sorted(flat_key))}), not both")
        if self.billing is not None and flat_billing:
            raise ValueError(
                f"give billing in `billing` or flat ({', '.join(sorted(flat_billing))}), not both"
            )
        return self

    def nested_key(self) -> ApiKeyIn:
        if self.api_key is not None:
            return self.api_key
        return ApiKeyIn(create=self.create_api_key if self.create_api_key is not None else True,
                        scopes=self.scopes, description=self.description, expires_at=self.expires_at)  # fmt: skip

    def nested_billing(self) -> BillingIn:
        return self.billing or BillingIn(plan=self.plan, hard_limit_enforced=self.hard_limit_enforced)


class KeyCreateRequest(RequestModel):
    scopes: list[str] = Field(max_length=20)
    description: str | None = Field(default=None, max_length=500)
    expires_at: AwareDatetime | None = None


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key_id: str
    tenant_id: str
    scopes: list[str]
    description: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    replaced_by_key_id: str | None


class KeyList(BaseModel):
    tenant_id: str
    items: list[KeyOut]


class IssuedKey(BaseModel):
    """A key as issued: `token` is the secret, shown in this answer only (null in any repeat of it)."""

    key_id: str
    token: str | None
    scopes: list[str]
    description: str | None = None
    expires_at: datetime | None = None


class KeyIssued(BaseModel):
    tenant_id: str
    api_key: IssuedKey
    replaces: dict[str, Any] | None = None  # for a rotation: the old key and when it stops working


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tenant_id: str
    name: str | None
    contact_email: str | None
    billing_plan: str | None
    billing_hard_limit_enforced: bool | None
    policy_ref: str | None
    revision: int
    created_at: datetime
    updated_at: datetime | None


class BootstrapBilling(BaseModel):
    plan: str
    hard_limit_enforced: bool


class BootstrapNext(BaseModel):
    healthcheck_curl: str
    checklist_curl: str
    first_run: str
    rotate_key: str | None


class BootstrapResponse(BaseModel):
    """201 with the key's token the first time; 200 with `token: null` for any repeat (rotate to get a new
    secret: `next.rotate_key`)."""

    tenant_id: str
    bootstrapped: bool
    tenant: TenantOut
    api_key: IssuedKey | None
    billing: BootstrapBilling
    policy_ref: str
    api_base_url: str
    env: dict[str, str]
    export_commands: list[str]
    next: BootstrapNext
