"""The reconciliation workspace: period and provider pickers, the tie-out of the mismatched payouts per
currency, mismatches by type over the last periods, the queue (the API's own filters and cursor), the
detail panel, triage actions, the gate verdict, the close and the evidence bundle.

Reads and actions call the API's services (`api.reconciliation.queue`, `.service`, `api.periods.service`)
with the caller's `Principal`, inside the request's transaction, so the rules (tenant, scopes, transition
table, revisions, gate) are the API's own; writes claim the form's Idempotency-Key with the API's kit.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select

from api.console.session import CallerDep, CsrfRefused, csrf_ok
from api.console.tables import pager, url, validated
from api.console.views import claim_form, grouped_bars, page, plain, problem_page, redirect
from api.core.database import utc_now
from api.core.dependencies import SessionDep, WriteSessionDep
from api.core.errors import Problem, ValidationFailed
from api.periods import service as periods
from api.periods.problems import EvidenceIncomplete, PeriodNotClosed
from api.periods.router import PERIOD_PATTERN
from api.reconciliation import problems, queue, service
from api.reconciliation.models import ReconciliationMismatch as Mismatch
from api.reconciliation.schemas import QueueQuery, QueueSort, TriageUpsert
from api.reconciliation.states import SEVERITY_RANK, TERMINAL_STATUSES, TRIAGE, TriageStatus
from api.tenants.dependencies import require_scopes
from api.tenants.models import Scope
from api.tenants.problems import ScopeForbidden
from settld.vocabulary import MISMATCH_TYPES

router = APIRouter(prefix="/console/reconciliation", include_in_schema=False)
BASE = "/console/reconciliation"
PAGE_SIZE = 20
CHART_PERIODS = 6
FILTERS = ("period", "provider_id", "severity", "status", "mismatch_type", "sort")
READ, WRITE = Scope.finance_read.value, Scope.finance_write.value
# Form action -> the TriageUpsert it sends (with the form's owner, notes and resolution).
ACTIONS = {
    "acknowledge": {"status": TriageStatus.acknowledged},
    "assign": {"status": TriageStatus.in_progress},
    "resolve": {"status": TriageStatus.resolved},
    "dismiss": {"status": TriageStatus.dismissed},
    "reopen": {"action": "reopen"},
}


def _choices(session: SessionDep, tenant_id: str) -> tuple[list[str], list[str]]:
    live = (Mismatch.tenant_id == tenant_id, Mismatch.cleared_at.is_(None))
    periods_ = session.scalars(
        select(Mismatch.period).distinct().where(*live).order_by(Mismatch.period.desc())
    )
    providers = session.scalars(
        select(Mismatch.provider_id).distinct().where(*live).order_by(Mismatch.provider_id)
    )
    return list(periods_), list(providers)


def _tieout(session: SessionDep, tenant_id: str, query: QueueQuery) -> list[dict[str, Any]]:
    """Per currency: the expected (instructions), actual (operations) and delta of the listed mismatches."""
    where = [Mismatch.tenant_id == tenant_id, Mismatch.cleared_at.is_(None)]
    if query.period:
        where.append(Mismatch.period == query.period)
    if query.provider_id:
        where.append(Mismatch.provider_id == query.provider_id)
    rows = session.execute(
        select(Mismatch.currency, func.count(), func.sum(Mismatch.expected_amount_cents),
               func.sum(Mismatch.actual_amount_cents), func.sum(Mismatch.amount_delta_cents))
        .where(*where).group_by(Mismatch.currency).order_by(Mismatch.currency)
    )  # fmt: skip
    return [{"currency": c, "count": n, "expected": int(e or 0), "actual": int(a or 0), "delta": int(d or 0)}
            for c, n, e, a, d in rows]  # fmt: skip


def _chart(session: SessionDep, tenant_id: str, provider_id: str | None, periods_: list[str]) -> Any:
    recent = sorted(periods_[:CHART_PERIODS])
    where = [Mismatch.tenant_id == tenant_id, Mismatch.cleared_at.is_(None), Mismatch.period.in_(recent)]
    if provider_id:
        where.append(Mismatch.provider_id == provider_id)
    counts = {(p, t): n for p, t, n in session.execute(
        select(Mismatch.period, Mismatch.mismatch_type, func.count()).where(*where)
        .group_by(Mismatch.period, Mismatch.mismatch_type))}  # fmt: skip
    return grouped_bars(recent, sorted({t for _, t in counts}), counts)


def _detail(session: SessionDep, tenant_id: str, triage_key: str) -> dict[str, Any]:
    mismatch = service.get_mismatch(session, tenant_id=tenant_id, triage_key=triage_key)  # 404 elsewhere
    try:
        triage = service.get_triage(session, tenant_id=tenant_id, triage_key=triage_key)
    except problems.TriageNotFound:
        triage = None
    status = TriageStatus(triage.status) if triage else TriageStatus.open
    allowed = {
        "acknowledge": TRIAGE.can(status, TriageStatus.acknowledged),
        "assign": status not in TERMINAL_STATUSES,
        "resolve": TRIAGE.can(status, TriageStatus.resolved),
        "dismiss": TRIAGE.can(status, TriageStatus.dismissed),
        "reopen": status in TERMINAL_STATUSES,
    }
    return {
        "mismatch": mismatch, "triage": triage, "status": status.value, "allowed": allowed,
        "revision": triage.revision if triage else 0,
        "actions": service.triage_actions(session, triage) if triage else [],
        "amount_differs": (mismatch.amount_delta_cents or 0) != 0
        or mismatch.expected_amount_cents is None or mismatch.actual_amount_cents is None,
        "currency_differs": mismatch.actual_currency not in (None, mismatch.currency),
        "operations_differ": mismatch.operation_count != 1,
    }  # fmt: skip


def _gate(session: SessionDep, tenant_id: str, period: str | None) -> dict[str, Any] | None:
    if not period:
        return None
    verdict = periods.get_verdict(session, tenant_id=tenant_id, period=period)
    close = periods.get_close(session, tenant_id=tenant_id, period=period)
    document = json.loads(verdict.verdict) if verdict else {}
    return {
        "verdict": verdict, "close": close, "checks": document.get("checks", []),
        "failing": json.loads(verdict.failing_check_ids) if verdict else [],
        "closed": close is not None and close.status == "closed",
        "green": verdict is not None and verdict.ok,
    }  # fmt: skip


def _query(request: Request, periods_: list[str]) -> QueueQuery:
    params = {
        name: request.query_params[name]
        for name in (*FILTERS, "cursor", "limit")
        if request.query_params.get(name)
    }
    params.setdefault("period", periods_[0] if periods_ else None)
    params.setdefault("limit", PAGE_SIZE)
    return validated(QueueQuery, params)


@router.get("")
def workspace(request: Request, session: SessionDep, caller: CallerDep) -> Response:
    principal, console = caller.principal, caller.console
    try:
        if not caller.may(READ):
            raise problems_forbidden()
        periods_, providers = _choices(session, principal.tenant_id)
        query = _query(request, periods_)
        count, counts, rows, next_cursor = queue.list_queue(
            session, tenant_id=principal.tenant_id, query=query
        )
        selected = request.query_params.get("selected")
        detail = _detail(session, principal.tenant_id, selected) if selected else None
    except Problem as problem:
        return problem_page(request, problem, console, caller=caller)
    filters = {name: getattr(query, name) for name in FILTERS}
    filters = {k: (v.value if hasattr(v, "value") else v) for k, v in filters.items()}
    if query.sort == QueueSort.severity:  # the API's default: links stay short
        filters["sort"] = None
    if query.limit != PAGE_SIZE:  # kept in every link, as the other filters
        filters["limit"] = str(query.limit)
    kept = {name: value for name, value in filters.items() if value}
    return page(
        request, "reconciliation.html", console, caller=caller, periods=periods_, providers=providers,
        filters=filters, count=count, counts=counts, rows=rows, sort=query.sort.value, sorts=[s.value for s in QueueSort],
        pager=pager(request, BASE, kept, query.cursor, next_cursor),
        detail=detail, selected=selected, tieout=_tieout(session, principal.tenant_id, query),
        chart=_chart(session, principal.tenant_id, query.provider_id, periods_),
        gate=_gate(session, principal.tenant_id, query.period), may_write=caller.may(WRITE),
        statuses=[s.value for s in TriageStatus], severities=list(SEVERITY_RANK), types=sorted(MISMATCH_TYPES),
        idempotency_key=secrets.token_urlsafe(18),
    )  # fmt: skip


def problems_forbidden() -> Problem:
    return ScopeForbidden("This workspace needs the scope finance_read.", required_scopes=[READ])


@router.post("/triage")
def triage(
    request: Request,
    session: WriteSessionDep,
    caller: CallerDep,
    csrf: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form()] = "",
    triage_key: Annotated[str, Form()] = "",
    revision: Annotated[int, Form()] = 0,
    action: Annotated[str, Form()] = "",
    owner: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
    resolution: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = BASE,
) -> Response:
    """One triage action; the service re-checks scope, tenant, transition and revision (If-Match)."""
    console = caller.console
    if not csrf_ok(console, csrf):
        return problem_page(request, CsrfRefused(), console, caller=caller)
    back = back if back.startswith(BASE) else BASE
    fields: dict[str, Any] = {"triage_key": triage_key, **ACTIONS.get(action, {})}
    if action == "assign" or owner.strip():
        fields["owner"] = owner.strip() or None
    if notes.strip():
        fields["notes"] = notes.strip()
    if resolution.strip():
        fields["resolution"] = resolution.strip()
    try:
        if action not in ACTIONS:
            raise ValidationFailed(
                errors=[{"loc": ["form", "action"], "msg": "unknown action", "type": "enum"}]
            )
        require_scopes(Scope.finance_write)(caller.principal)
        body = TriageUpsert.model_validate(fields)
        if claim_form(
            request, session, caller, f"{BASE}/triage", idempotency_key, {**fields, "revision": revision}
        ):
            outcome = service.upsert_triage(session, principal=caller.principal, request=body,
                                            expected_revision=revision)  # fmt: skip
            console.say("ok", f"{action}: {triage_key[:12]}… is {outcome.triage.status} "
                              f"(revision {outcome.triage.revision}).")  # fmt: skip
        else:
            console.say("ok", "This form was already sent; nothing changed twice.")
    except problems.RevisionConflict as conflict:
        session.rollback()
        console.say("conflict", f"{conflict.code}: someone changed this mismatch since you opened it "
                                f"(now revision {conflict.extra.get('current_revision')}). Review it and try again.")  # fmt: skip
    except ValidationError as error:
        session.rollback()
        console.say("error", "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()))
    except Problem as problem:
        session.rollback()
        if problem.status in (403, 404):
            return problem_page(request, problem, console, caller=caller)
        console.say("error", f"{problem.code}: {problem.detail}")
    return redirect(request, back, console)


@router.post("/close")
def close(
    request: Request,
    session: WriteSessionDep,
    caller: CallerDep,
    csrf: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form()] = "",
    period: Annotated[str, Form()] = "",
) -> Response:
    """Close the period through the API's close service (it re-checks the gate and the serious mismatches)."""
    console = caller.console
    if not csrf_ok(console, csrf):
        return problem_page(request, CsrfRefused(), console, caller=caller)
    try:
        require_scopes(Scope.finance_write)(caller.principal)
        if not re.match(PERIOD_PATTERN, period):
            raise ValidationFailed(
                errors=[{"loc": ["form", "period"], "msg": "not YYYY-MM", "type": "pattern"}]
            )
        if claim_form(request, session, caller, f"{BASE}/close", idempotency_key, {"period": period}):
            outcome = periods.close_period(session, context=caller.principal.audit_context, period=period,
                                           artifacts_dir=request.app.state.settings.artifacts_dir, now=utc_now())  # fmt: skip
            console.say("ok", f"Period {period} is closed (revision {outcome.record.revision}); the evidence "
                              "bundle is ready to download.")  # fmt: skip
    except Problem as problem:
        session.rollback()
        if problem.status in (403, 404):
            return problem_page(request, problem, console, caller=caller)
        console.say(
            "error",
            f"{problem.code}: {problem.detail} {' '.join(problem.extra.get('failing_check_ids', []))}",
        )
    return redirect(request, url(BASE, period=period), console)


@router.get("/bundle/{period}")
def bundle(request: Request, session: SessionDep, caller: CallerDep, period: str) -> Response:
    """The closed period's evidence bundle (the file the close recorded, checked against its sha256)."""
    record = periods.get_close(session, tenant_id=caller.principal.tenant_id, period=period)
    if record is None or record.status != "closed" or not caller.may(READ):
        return problem_page(
            request, PeriodNotClosed(f"Period {period} is not closed."), caller.console, caller=caller
        )
    path = Path(request.app.state.settings.artifacts_dir) / record.bundle_file
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != record.bundle_sha256:
        return problem_page(request, EvidenceIncomplete("The bundle file is missing or changed."), caller.console,
                            caller=caller)  # fmt: skip
    return plain(request, FileResponse(path, filename=path.name, media_type="application/zip"))
