"""The console's frame: sign-in with an API key, sign-out, the home page, the static files, and the
workspaces (one module each, with its router and template, included here)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, Response

from api.console import arbitration, marketplace, onboarding, policies, reconciliation
from api.console.session import (
    PATH,
    SIGN_IN,
    CallerDep,
    CsrfRefused,
    csrf_ok,
    end_session,
    read_session,
)
from api.console.views import HERE, page, plain, problem_page, redirect
from api.core.dependencies import SessionDep
from api.core.errors import Problem
from api.tenants.problems import AuthInvalid
from api.tenants.service import resolve_token

router = APIRouter(include_in_schema=False)
STATIC = {"console.css": "text/css", "console.js": "text/javascript"}


@router.get(SIGN_IN)
def sign_in_form(request: Request) -> Response:
    return page(request, "sign_in.html", read_session(request))


@router.post(SIGN_IN)
def sign_in(
    request: Request,
    session: SessionDep,
    api_key: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Check the pasted key with the API's own `resolve_token`, then keep only its id in the session."""
    console = read_session(request)
    if not csrf_ok(console, csrf):
        return problem_page(request, CsrfRefused(), console)
    try:
        key = resolve_token(session, api_key.strip())
    except Problem as problem:
        detail = problem.detail if isinstance(problem, AuthInvalid) else f"{problem.code}: {problem.detail}"
        return page(request, "sign_in.html", console, status=401, error=detail)
    console.key_id, console.changed = key.key_id, True
    console.csrf = secrets.token_urlsafe(24)  # a new token for the new session
    return redirect(request, PATH, console)


@router.post(f"{PATH}/sign-out")
def sign_out(request: Request, caller: CallerDep, csrf: Annotated[str, Form()] = "") -> Response:
    if not csrf_ok(caller.console, csrf):
        return problem_page(request, CsrfRefused(), caller.console, caller=caller)
    response = redirect(request, SIGN_IN, None)
    end_session(response)
    return response


@router.get(PATH)
def home(request: Request, caller: CallerDep) -> Response:
    return page(request, "home.html", caller.console, caller=caller)


@router.get(f"{PATH}/static/{{name}}")
def static(request: Request, name: str) -> Response:
    """The vendored static files (api/console/static/README.md), by name from a fixed list."""
    if name not in STATIC:
        return plain(request, Response(status_code=404))
    return plain(request, FileResponse(HERE / "static" / name, media_type=STATIC[name]))


# Sign-in, home and the static files, then each workspace's router: api.main mounts them all.
routers = (
    router,
    *(workspace.router for workspace in (reconciliation, arbitration, policies, marketplace, onboarding)),
)
