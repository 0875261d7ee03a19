"""Authentication, scope, tenant and key problems (one class each: api/core/errors.py).

The tenant and key problems are also `TenantError`s, so the CLI, which calls the same service functions,
prints their detail instead of a problem document.
"""

from __future__ import annotations

from api.core.errors import Problem

CHALLENGE = {"WWW-Authenticate": "Bearer"}


class TenantError(ValueError):
    """Invalid tenant or key input: a problem document over HTTP, a message on the command line."""


class AuthRequired(Problem):
    status, code, title = 401, "AUTH_REQUIRED", "Send an API key as `Authorization: Bearer ...`."
    default_headers = CHALLENGE


class AuthInvalid(Problem):
    status, code, title = 401, "AUTH_INVALID", "The API key is malformed or not valid."
    default_headers = CHALLENGE


class AuthKeyRevoked(Problem):
    status, code, title = 401, "AUTH_KEY_REVOKED", "The API key has been revoked."
    default_headers = CHALLENGE


class AuthKeyExpired(Problem):
    status, code, title = 401, "AUTH_KEY_EXPIRED", "The API key has passed its `expires_at`."
    default_headers = CHALLENGE


class ScopeForbidden(Problem):
    status, code, title = 403, "SCOPE_FORBIDDEN", "The API key lacks every scope this route accepts."
    members = ("required_scopes",)


class PlatformKeyRequired(Problem):
    status, code = 403, "PLATFORM_KEY_REQUIRED"
    title = "This route acts on tenants: it needs a platform key (`settld keys create --platform`)."


# What every authenticated route may answer before it runs: the one auth error map.
AUTH_PROBLEMS = (AuthRequired, AuthInvalid, AuthKeyRevoked, AuthKeyExpired, ScopeForbidden)
PLATFORM_PROBLEMS = (*AUTH_PROBLEMS, PlatformKeyRequired)


class TenantNotFound(Problem, TenantError):
    status, code, title = 404, "TENANT_NOT_FOUND", "No such tenant (or not one this key may see)."


class TenantIdInvalid(Problem, TenantError):
    status, code, title = (
        400,
        "TENANT_ID_INVALID",
        "A tenant id is 1-64 of A-Z a-z 0-9 _ . : -, first alphanumeric.",
    )


class ApiKeyNotFound(Problem, TenantError):
    status, code, title = 404, "API_KEY_NOT_FOUND", "The tenant has no API key of this id."


class ApiKeyNotLive(Problem, TenantError):
    status, code = 409, "API_KEY_NOT_LIVE"
    title = (
        "The key is revoked, expired or already rotated (its revocation is scheduled): rotate its successor."
    )
    members = ("key_id", "revoked_at", "replaced_by_key_id")


class ScopeUnknown(Problem, TenantError):
    status, code, title = 400, "SCOPE_UNKNOWN", "A scope is not one the API knows (or none was given)."
    members = ("unknown_scopes", "known_scopes")


class PlanUnknown(Problem, TenantError):
    status, code, title = 400, "PLAN_UNKNOWN", "The billing plan is not in the plan catalog."
    members = ("plan", "known_plans")


class TenantBootstrapConflict(Problem, TenantError):
    status, code = 409, "TENANT_BOOTSTRAP_CONFLICT"
    title = "The tenant was bootstrapped with another body; nothing was changed."
    members = ("tenant_id", "differences")
