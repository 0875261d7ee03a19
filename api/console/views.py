"""Rendering for the console: the templates, the page response (security headers, the session cookie),
amounts for people, and the small server-side SVG bar chart (no script, so the CSP stays strict)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from api.console.session import SECURITY_HEADERS, ConsoleSession, write_session
from api.core.database import utc_now
from api.core.errors import Problem
from api.idempotency.service import IdempotentRequest, claim_key
from settld.core import canonical_hash
from settld.money import major_units

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["money"] = lambda cents, currency: (
    "—" if cents is None else major_units(cents, currency)
)

# The workspaces: (title, url, the scopes any of which shows it). A new workspace is a line here, its module
# (routes) added in router.py, and its template.
WORKSPACES = (
    ("Reconciliation", "/console/reconciliation", ("finance_read",)),
    ("Arbitration", "/console/arbitration", ("finance_read", "finance_write", "ops_read")),
    ("Policies", "/console/policies", ("finance_read", "finance_write", "ops_read")),
    ("Marketplace", "/console/marketplace", ("finance_read", "finance_write", "ops_read")),
    ("Onboarding", "/console/onboarding", ("ops_read",)),
)
# Colour per series in a chart, in order (the legend names them; no meaning rests on colour alone).
PALETTE = ("#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#a16207", "#0f766e", "#be123c", "#475569")


def _finish(request: Request, response: Response, console: ConsoleSession | None) -> Response:
    response.headers.update(SECURITY_HEADERS)
    if console is not None and console.changed:
        write_session(request, response, console)
    return response


def page(
    request: Request, template: str, console: ConsoleSession, status: int = 200, **context: Any
) -> Response:
    """A full page; every template gets the session's CSRF token and its flash message (shown once)."""
    flash = console.take_flash()
    caller = context.get("caller")
    if caller is not None:
        context["nav"] = [(title, url) for title, url, scopes in WORKSPACES if caller.may(*scopes)]
    response = templates.TemplateResponse(request, template, {"csrf": console.csrf, "flash": flash, **context},
                                          status_code=status)  # fmt: skip
    return _finish(request, response, console)


def redirect(request: Request, url: str, console: ConsoleSession | None) -> Response:
    """Post/redirect/get: every form answers with a 303 to the page that shows its result."""
    return _finish(request, RedirectResponse(url, status_code=303), console)


def problem_page(request: Request, problem: Problem, console: ConsoleSession, **context: Any) -> Response:
    """A problem of the API's own services as a page with the same status and code (a 404 stays a 404)."""
    return page(request, "problem.html", console, status=problem.status, problem=problem, **context)


def plain(request: Request, response: Response) -> Response:
    return _finish(request, response, None)


def html(request: Request, text: str, status: int = 200) -> Response:
    return _finish(request, HTMLResponse(text, status_code=status), None)


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    width: int
    colour: str
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    axis: list[tuple[int, str]]  # (x of the group's middle, group label)
    legend: list[tuple[str, str]]  # (colour, series name)
    peak: int
    summary: str


def grouped_bars(groups: list[str], series: list[str], values: dict[tuple[str, str], int], *,
                 height: int = 140, bar: int = 10, gap: int = 18) -> Chart:  # fmt: skip
    """A grouped bar chart: one group per `groups` entry (periods), one bar per series (types) in it."""
    peak = max(values.values(), default=0)
    group_width = max(len(series), 1) * bar + gap
    bars, axis = [], []
    for g, group in enumerate(groups):
        left = 30 + g * group_width
        axis.append((left + (group_width - gap) // 2, group))
        for s, name in enumerate(series):
            count = values.get((group, name), 0)
            h = round(count / peak * (height - 30)) if peak else 0
            bars.append(Bar(left + s * bar, height - 20 - h, h, bar - 1, PALETTE[s % len(PALETTE)],
                            f"{group} {name}: {count}"))  # fmt: skip
    legend = [(PALETTE[s % len(PALETTE)], name) for s, name in enumerate(series)]
    summary = "; ".join(f"{group}: " + ", ".join(f"{name} {values.get((group, name), 0)}" for name in series)
                        for group in groups)  # fmt: skip
    return Chart(30 + len(groups) * group_width, height, bars, axis, legend, peak, summary)


def claim_form(
    request: Request, session: Session, caller: Any, path: str, key: str, form: dict[str, Any]
) -> bool:
    """Claim a form's idempotency key with the API's kit (`claim_key`) in the request's transaction; False
    when the same form was already sent (then the action is not run again). A refused action rolls the
    claim back with it, as `@idempotent` does."""
    sent = IdempotentRequest(key=key or None, method="POST", path=path,
                             request_hash=canonical_hash({"path": path, "form": form}))  # fmt: skip
    claim = claim_key(session, principal=caller.principal, request=sent, now=utc_now(),
                      retention=request.app.state.settings.idempotency_retention)  # fmt: skip
    if claim.replay is not None:
        return False
    claim.respond(200, {"ok": True, **form})
    return True
