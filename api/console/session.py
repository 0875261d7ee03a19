"""The console's session: a signed, HttpOnly, SameSite=Strict cookie, its CSRF token, and the caller.

The cookie holds the API key's id, a CSRF token and at most one flash message, signed with itsdangerous
(never the key's secret: the secret is checked once, at sign-in, by the API's own `resolve_token`). Every
request re-reads the key (`live_key`: revoked or expired ends the session) and builds the same `Principal`
the API's routes get, so every query and action is the key's tenant's and its scopes are the API's.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.core.dependencies import SessionDep, request_id_of
from api.core.errors import Problem
from api.tenants.dependencies import Principal
from api.tenants.models import ApiKey
from api.tenants.service import assert_live

COOKIE = "settld_console"
PATH = "/console"
SIGN_IN = f"{PATH}/sign-in"
# Pages are ours alone: scripts, styles and images from /console/static only, no inline script or style,
# forms post only here, the console's script fetches only here (its partial updates), no page may be framed.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")  # fmt: skip
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SETTLD_CONSOLE_", extra="ignore")

    # Signs the cookie. Unset: a random secret per process (sessions end when the API restarts); set it when
    # the API runs more than one worker, or sessions would work on one worker only.
    secret: str | None = None
    # Seconds a session lasts from sign-in.
    max_age_seconds: int = 8 * 3600
    # Send the cookie over HTTPS only (on for any deployment behind TLS; off for http://127.0.0.1).
    secure_cookie: bool = False


_lock = threading.Lock()


def _serializer(request: Request) -> tuple[URLSafeTimedSerializer, ConsoleSettings]:
    state = request.app.state
    with _lock:
        if getattr(state, "console_settings", None) is None:
            settings = ConsoleSettings()
            state.console_secret = settings.secret or secrets.token_urlsafe(32)
            state.console_settings = settings
    return URLSafeTimedSerializer(state.console_secret, salt="settld-console"), state.console_settings


@dataclass
class ConsoleSession:
    """What the cookie says: `key_id` once signed in, the CSRF token, one flash message."""

    csrf: str
    key_id: str | None = None
    flash: dict[str, str] | None = None
    changed: bool = field(default=False, compare=False)

    def say(self, kind: str, text: str) -> None:
        self.flash, self.changed = {"kind": kind, "text": text}, True

    def take_flash(self) -> dict[str, str] | None:
        flash, self.flash = self.flash, None
        self.changed = self.changed or flash is not None
        return flash


def read_session(request: Request) -> ConsoleSession:
    serializer, settings = _serializer(request)
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            data: dict[str, Any] = serializer.loads(raw, max_age=settings.max_age_seconds)
            return ConsoleSession(csrf=data["c"], key_id=data.get("k"), flash=data.get("f"))
        except (BadSignature, KeyError, TypeError):
            pass
    return ConsoleSession(csrf=secrets.token_urlsafe(24), changed=True)


def write_session(request: Request, response: Response, console: ConsoleSession) -> None:
    serializer, settings = _serializer(request)
    data = {"c": console.csrf, "k": console.key_id, "f": console.flash}
    response.set_cookie(COOKIE, serializer.dumps(data), max_age=settings.max_age_seconds, path=PATH,
                        httponly=True, samesite="strict", secure=settings.secure_cookie)  # fmt: skip


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict")


def csrf_ok(console: ConsoleSession, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(console.csrf.encode(), str(token).encode())


class CsrfRefused(Problem):
    status = 403
    code = "CONSOLE_CSRF_REFUSED"
    title = "The form carries no valid CSRF token of this session: reload the page and send it again."


def live_key(session: SessionDep, key_id: str) -> ApiKey | None:
    key = session.get(ApiKey, key_id)
    if key is None:
        return None
    try:
        assert_live(key)
    except Problem:
        return None
    return key


@dataclass(frozen=True)
class Caller:
    """The signed-in caller: the API's Principal and the console session (for CSRF and flash)."""

    principal: Principal
    console: ConsoleSession

    def may(self, *scopes: str) -> bool:
        return not self.principal.scopes.isdisjoint(scopes)


def signed_in(request: Request, session: SessionDep) -> Caller:
    """The caller, or a redirect to the sign-in page (no console page is reachable without a session)."""
    console = read_session(request)
    key = live_key(session, console.key_id) if console.key_id else None
    if key is None:
        raise HTTPException(status_code=303, headers={"Location": SIGN_IN, **SECURITY_HEADERS})
    principal = Principal(tenant_id=key.tenant_id, key_id=key.key_id, scopes=frozenset(key.scopes),
                          request_id=request_id_of(request), is_platform=key.is_platform)  # fmt: skip
    return Caller(principal, console)


CallerDep = Annotated[Caller, Depends(signed_in)]
