"""The arbitration workspace: the queue (the API's `list_queue` with its own filters and cursor) with SLA
badges, and the case workspace (`get_workspace`: timeline, evidence, related cases, appeal chain and the
actions the caller may take); actions call `api.arbitration.cases` with the revision the page showed."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.arbitration import cases, problems
from api.arbitration.query import QueueQuery, parse_filters
from api.arbitration.queue import list_queue
from api.arbitration.schemas import CaseAppeal, CaseAssign, CaseClose, CaseEvidence, CaseVerdict, QueueItem
from api.arbitration.states import CaseStatus, Outcome, Priority
from api.arbitration.workspace import get_workspace
from api.console.session import CallerDep, CsrfRefused, csrf_ok
from api.console.tables import pager, validated
from api.console.views import claim_form, page, problem_page, redirect
from api.core.dependencies import NowDep, SessionDep, WriteSessionDep
from api.core.errors import Problem, ValidationFailed
from api.tenants.dependencies import require_scopes
from api.tenants.models import Scope

router = APIRouter(prefix="/console/arbitration", include_in_schema=False)
BASE = "/console/arbitration"
FILTERS = ("status", "priority", "assigned", "arbiter", "sla_hours", "cursor", "limit")
READ_SCOPES = (Scope.finance_read, Scope.finance_write, Scope.ops_read)
WRITE_SCOPES = (Scope.finance_write, Scope.ops_write)
DUE_SOON_SHARE = 0.25  # "due soon": open and due within the last quarter of its SLA
# Form action -> (the workspace's actionability flag, the request model, the service function)
ACTIONS: dict[str, tuple[str, type, Callable[..., Any]]] = {
    "assign": ("can_assign_arbiter", CaseAssign, cases.assign_case),
    "evidence": ("can_add_evidence", CaseEvidence, cases.add_case_evidence),
    "verdict": ("can_submit_verdict", CaseVerdict, cases.issue_verdict),
    "close": ("can_close_case", CaseClose, cases.close_case),
    "appeal": ("can_open_appeal", CaseAppeal, cases.appeal_case),
}


def sla_badge(item: Any, now: Any) -> str | None:
    if item.over_sla:
        return "over SLA"
    if item.status != CaseStatus.closed and item.due_at - now <= timedelta(
        hours=item.sla_hours * DUE_SOON_SHARE
    ):
        return "due soon"
    return None


@router.get("")
def queue(request: Request, session: SessionDep, caller: CallerDep, now: NowDep) -> Response:
    params = {name: request.query_params[name] for name in FILTERS if request.query_params.get(name)}
    try:
        require_scopes(*READ_SCOPES)(caller.principal)
        query = validated(QueueQuery, {"limit": 25, **params})
        listing = list_queue(session, tenant_id=caller.principal.tenant_id, filters=parse_filters(query),
                             limit=query.limit, cursor=query.cursor, now=now)  # fmt: skip
    except Problem as problem:
        return problem_page(request, problem, caller.console, caller=caller)
    kept = {k: v for k, v in params.items() if k != "cursor"}
    items = [{**item, "badge": sla_badge(QueueItem(**item), listing.as_of)} for item in listing.items]
    return page(request, "arbitration.html", caller.console, caller=caller, listing=listing, items=items,
                filters=kept, statuses=[s.value for s in CaseStatus], priorities=[p.value for p in Priority],
                pager=pager(request, BASE, kept, query.cursor, listing.next_cursor))  # fmt: skip


@router.get("/cases/{case_id}")
def case(request: Request, session: SessionDep, caller: CallerDep, now: NowDep, case_id: str) -> Response:
    try:
        require_scopes(*READ_SCOPES)(caller.principal)
        if len(case_id) > 128:
            raise problems.CaseNotFound(f"case {case_id[:40]!r}… does not exist")
        workspace = get_workspace(
            session, principal=caller.principal, case_id=case_id, sla_hours=24.0, now=now
        )
    except Problem as problem:
        return problem_page(request, problem, caller.console, caller=caller)
    return page(request, "arbitration_case.html", caller.console, caller=caller, w=workspace,
                badge=sla_badge(workspace.queue_item, now), outcomes=[o.value for o in Outcome],
                idempotency_key=secrets.token_urlsafe(18))  # fmt: skip


@router.post("/cases/{case_id}/{action}")
def act(
    request: Request, session: WriteSessionDep, caller: CallerDep, now: NowDep, case_id: str, action: str,
    csrf: Annotated[str, Form()] = "", idempotency_key: Annotated[str, Form()] = "",
    revision: Annotated[int, Form()] = 0, arbiter_agent_id: Annotated[str, Form()] = "",
    evidence_ref: Annotated[str, Form()] = "", outcome: Annotated[str, Form()] = "",
    release_rate_pct: Annotated[str, Form()] = "", rationale: Annotated[str, Form()] = "",
    summary: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """One case action through `api.arbitration.cases` (it re-checks scopes, tenant, state and revision)."""
    console = caller.console
    if not csrf_ok(console, csrf):
        return problem_page(request, CsrfRefused(), console, caller=caller)
    back = f"{BASE}/cases/{case_id}" if len(case_id) <= 128 else BASE
    fields: dict[str, Any] = {
        "assign": {"arbiter_agent_id": arbiter_agent_id.strip() or None, "expected_revision": revision},
        "evidence": {"evidence_refs": [evidence_ref.strip()], "expected_revision": revision},
        "verdict": {"outcome": outcome, "release_rate_pct": release_rate_pct or None, "rationale": rationale,
                    "evidence_refs": [evidence_ref.strip()] if evidence_ref.strip() else [],
                    "expected_revision": revision},
        "close": {"summary": summary.strip() or None, "expected_revision": revision},
        "appeal": {"reason": reason, "arbiter_agent_id": arbiter_agent_id.strip() or None},
    }.get(action, {})  # fmt: skip
    try:
        if action not in ACTIONS:
            raise ValidationFailed(
                errors=[{"loc": ["path", "action"], "msg": "unknown action", "type": "enum"}]
            )
        require_scopes(*WRITE_SCOPES)(caller.principal)
        _, model, perform = ACTIONS[action]
        body = validated(model, fields)
        if claim_form(request, session, caller, f"{BASE}/cases/{case_id}/{action}", idempotency_key, fields):
            outcome_ = perform(session, principal=caller.principal, case_id=case_id, request=body, now=now)
            target = outcome_.case
            console.say(
                "ok", f"{action}: case {target.case_id} is {target.status} (revision {target.revision})."
            )
            back = f"{BASE}/cases/{target.case_id}"
        else:
            console.say("ok", "This form was already sent; nothing changed twice.")
    except Problem as problem:
        session.rollback()
        if problem.status in (403, 404):
            return problem_page(request, problem, console, caller=caller)
        console.say("conflict" if problem.status == 409 else "error", f"{problem.code}: {problem.detail}")
    return redirect(request, back, console)
