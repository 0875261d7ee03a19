"""The policies workspace: the tenant's settlement policy versions, the diff between two chosen versions
(added / removed / changed, path by path), the rollout's stages with the canary percent, its history,
and the rollback.

Everything is the policy registry's own code (`api.policies.views` for the reads and the diff with its
defaults, `api.policies.rollout.rollback` for the move) with the caller's `Principal`: the tenant is the
key's (`own_tenant`), the scopes are the routes', and the rollback is checked against the rollout
revision the page showed (the If-Match of the JSON route), so a concurrent move is a message.
"""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.console.session import CallerDep, CsrfRefused, csrf_ok
from api.console.tables import params_of, url, validated
from api.console.views import claim_form, page, problem_page, redirect
from api.core.dependencies import NowDep, SessionDep, WriteSessionDep
from api.core.errors import Problem
from api.onboarding.router import own_tenant
from api.policies import problems, rollout, views
from api.policies.schemas import DiffQuery, RollbackIn
from api.reconciliation.problems import RevisionConflict
from api.tenants.dependencies import require_scopes
from api.tenants.models import Scope

router = APIRouter(prefix="/console/policies", include_in_schema=False)
BASE = "/console/policies"
READ_SCOPES = (Scope.finance_read, Scope.finance_write, Scope.ops_read)
WRITE_SCOPES = (Scope.finance_write, Scope.ops_write)
KIND_ORDER = ("changed", "added", "removed")


def shown(value: Any) -> str:
    """A policy value as the diff table shows it: JSON, keys sorted (a string keeps its quotes)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _diff(session: SessionDep, tenant_id: str, query: DiffQuery) -> dict[str, Any] | None:
    """The registry's diff (its defaults: from = active, to = draft, else active); None when the tenant
    has no version to compare yet."""
    try:
        result = views.diff(session, tenant_id=tenant_id, before=views.parse_ref_text(query.from_),
                            after=views.parse_ref_text(query.to), include_unchanged=query.include_unchanged,
                            limit=query.limit)  # fmt: skip
    except problems.DiffPolicyReferenceRequired:
        return None
    result["rows"] = sorted(result["changes"], key=lambda c: (KIND_ORDER.index(c["kind"])
                                                              if c["kind"] in KIND_ORDER else 3, c["path"]))  # fmt: skip
    return result


def _stage_of(state: dict[str, Any]) -> dict[str, str]:
    """`policy_id@version` -> the stage it holds now (a version is in one slot or none)."""
    stages = state["stages"]
    slots = {"draft": stages["draft"], "canary": stages["canary"]["policy_ref"], "active": stages["active"]}
    return {f"{ref['policy_id']}@{ref['policy_version']}": stage for stage, ref in slots.items() if ref}


@router.get("")
def workspace(request: Request, session: SessionDep, caller: CallerDep) -> Response:
    principal = caller.principal
    try:
        require_scopes(*READ_SCOPES)(principal)
        tenant_id = own_tenant(session, principal, principal.tenant_id, platform_may=False)
        query = validated(DiffQuery, params_of(request, ("from", "to", "include_unchanged")))
        versions = views.list_versions(session, tenant_id=tenant_id)
        state = views.rollout_state(session, tenant_id=tenant_id)
        diff = _diff(session, tenant_id, query)
    except Problem as problem:
        return problem_page(request, problem, caller.console, caller=caller)
    refs = [f"{v.policy_id}@{v.policy_version}" for v in versions]
    chosen = {"from": query.from_, "to": query.to}
    if diff is not None:
        chosen = {side: f"{diff[f'{side}_policy_ref']['policy_id']}@{diff[f'{side}_policy_ref']['policy_version']}"
                  for side in ("from", "to")}  # fmt: skip
    return page(request, "policies.html", caller.console, caller=caller, versions=versions, refs=refs,
                state=state, stage_of=_stage_of(state), diff=diff, chosen=chosen, shown=shown,
                may_write=caller.may(*WRITE_SCOPES), idempotency_key=secrets.token_urlsafe(18),
                back=url(BASE, **{"from": query.from_, "to": query.to}))  # fmt: skip


@router.post("/rollback")
def rollback(
    request: Request, session: WriteSessionDep, caller: CallerDep, now: NowDep,
    csrf: Annotated[str, Form()] = "", idempotency_key: Annotated[str, Form()] = "",
    revision: Annotated[int, Form()] = 0, target: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = BASE,
) -> Response:  # fmt: skip
    """Roll the active slot back (to `target`, else to the version the newest promotion replaced), sent
    with the rollout revision the page showed, as the JSON route's If-Match."""
    console = caller.console
    if not csrf_ok(console, csrf):
        return problem_page(request, CsrfRefused(), console, caller=caller)
    try:
        require_scopes(*WRITE_SCOPES)(caller.principal)
        tenant_id = own_tenant(session, caller.principal, caller.principal.tenant_id, platform_may=False)
        ref = None
        if target:
            pair = views.parse_ref_text(validated(DiffQuery, {"to": target}).to)
            ref = {"policy_id": pair[0], "policy_version": pair[1]}
        body = validated(
            RollbackIn, {"policy_ref": ref, "note": note.strip() or None, "expected_revision": revision}
        )
        form = {"target": target, "note": body.note, "revision": revision}
        if claim_form(request, session, caller, f"{BASE}/rollback", idempotency_key, form):
            moved = rollout.rollback(session, tenant_id=tenant_id, policy_ref=body.policy_ref, note=body.note,
                                     expected_revision=body.expected_revision, context=caller.principal.audit_context,
                                     now=now)  # fmt: skip
            active = moved.rollout.active_policy_id, moved.rollout.active_policy_version
            console.say("ok", f"{moved.action}: {active[0]} v{active[1]} is active "
                              f"(rollout revision {moved.rollout.revision}).")  # fmt: skip
        else:
            console.say("ok", "This form was already sent; nothing changed twice.")
    except RevisionConflict as conflict:
        session.rollback()
        console.say("conflict", f"{conflict.code}: the rollout moved since you opened this page (now revision "
                                f"{conflict.extra.get('current_revision')}). Review it and try again.")  # fmt: skip
    except Problem as problem:
        session.rollback()
        if problem.status in (403, 404) and not isinstance(problem, problems.PolicyNotFound):
            return problem_page(request, problem, console, caller=caller)
        console.say("error", f"{problem.code}: {problem.detail}")
    return redirect(request, back if back.startswith(f"{BASE}?") else BASE, console)  # the diff shown stays
