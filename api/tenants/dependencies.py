"""Authentication and scope checks as Annotated dependencies (`TenantDep`, `FinanceReadDep`, ...).

401 when the bearer token is missing, malformed, unknown or revoked; 403 when the key lacks every scope
the route accepts. The resulting `Principal` carries the key's tenant, and every query filters on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.audit.service import AuditContext
from api.core.dependencies import SessionDep, request_id_of
from api.tenants.models import Scope
from api.tenants.problems import AuthRequired, PlatformKeyRequired, ScopeForbidden
from api.tenants.service import resolve_token

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="API key: `Authorization: Bearer sk_<keyId>.<secret>`.",
)


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    key_id: str
    scopes: frozenset[str]
    request_id: str
    is_platform: bool = False

    @property
    def audit_context(self) -> AuditContext:
        return AuditContext(self.tenant_id, self.key_id, self.request_id)


def authenticate(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise AuthRequired()
    key = resolve_token(session, credentials.credentials)
    return Principal(
        tenant_id=key.tenant_id,
        key_id=key.key_id,
        scopes=frozenset(key.scopes),
        request_id=request_id_of(request),
        is_platform=key.is_platform,
    )


TenantDep = Annotated[Principal, Depends(authenticate)]


def require_scopes(*accepted: Scope, platform: bool = False) -> Callable[[Principal], Principal]:
    """A dependency admitting keys that hold at least one of `accepted` (and are platform keys, if asked)."""
    names = sorted(scope.value for scope in accepted)

    def dependency(principal: TenantDep) -> Principal:
        if platform and not principal.is_platform:
            raise PlatformKeyRequired()
        if principal.scopes.isdisjoint(names):
            raise ScopeForbidden(
                f"This route needs one of the scopes: {', '.join(names)}.", required_scopes=names
            )
        return principal

    dependency.__name__ = f"require_{'platform_' if platform else ''}{'_or_'.join(names)}"
    return dependency


FinanceReadDep = Annotated[Principal, Depends(require_scopes(Scope.finance_read))]
FinanceWriteDep = Annotated[Principal, Depends(require_scopes(Scope.finance_write))]
AuditReadDep = Annotated[Principal, Depends(require_scopes(Scope.ops_read, Scope.finance_read))]
# Platform keys (`settld keys create --platform`), which act on tenants; a tenant key is 403.
PlatformWriteDep = Annotated[Principal, Depends(require_scopes(Scope.ops_write, platform=True))]
PlatformReadDep = Annotated[Principal, Depends(require_scopes(Scope.ops_read, platform=True))]
# A tenant's own key (a platform key too, for reads), for the tenant's onboarding.
OpsReadDep = Annotated[Principal, Depends(require_scopes(Scope.ops_read))]
OpsWriteDep = Annotated[Principal, Depends(require_scopes(Scope.ops_write))]
