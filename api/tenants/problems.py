"""Authentication and scope problems, shared by every authenticated route (one class each)."""

from __future__ import annotations

from api.core.errors import Problem

CHALLENGE = {"WWW-Authenticate": "Bearer"}


class AuthRequired(Problem):
    status, code, title = 401, "AUTH_REQUIRED", "Send an API key as `Authorization: Bearer ...`."
    default_headers = CHALLENGE


class AuthInvalid(Problem):
    status, code, title = 401, "AUTH_INVALID", "The API key is malformed or not valid."
    default_headers = CHALLENGE


class AuthKeyRevoked(Problem):
    status, code, title = 401, "AUTH_KEY_REVOKED", "The API key has been revoked."
    default_headers = CHALLENGE


class ScopeForbidden(Problem):
    status, code, title = 403, "SCOPE_FORBIDDEN", "The API key lacks every scope this route accepts."
    members = ("required_scopes",)


# What every authenticated route may answer before it runs: the one auth error map.
AUTH_PROBLEMS = (AuthRequired, AuthInvalid, AuthKeyRevoked, ScopeForbidden)
