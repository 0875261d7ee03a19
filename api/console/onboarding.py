"""The onboarding workspace: the tenant's first-settlement checklist (`api.onboarding.service.checklist`)
and, for a platform key, any tenant's checklist and the cohort funnel as a chart (`list_cohorts`). The
API's rules decide who sees what: `own_tenant` (a tenant key sees its own tenant only, another is a 404)
and the scopes of `OpsReadDep` and `PlatformReadDep`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.console.session import CallerDep
from api.console.views import grouped_bars, page, problem_page
from api.core.dependencies import SessionDep
from api.core.errors import Problem
from api.core.pagination import PageQuery
from api.onboarding import service
from api.onboarding.router import own_tenant
from api.tenants.dependencies import require_scopes
from api.tenants.models import Scope

router = APIRouter(prefix="/console/onboarding", include_in_schema=False)
BASE = "/console/onboarding"
COHORTS_SHOWN = 6


def _funnel(session: SessionDep) -> dict[str, Any]:
    """The newest monthly cohorts, oldest first: tenants reaching each step (bars), conversion (table)."""
    _, rows, _ = service.list_cohorts(session, cohort_grain="month", shareable_only=False,
                                      page=PageQuery(limit=500))  # fmt: skip
    cohorts = sorted({row.cohort for row in rows})[-COHORTS_SHOWN:]
    shown = [row for row in rows if row.cohort in cohorts]
    steps = [step for _, step in sorted({(row.step_order, row.step) for row in shown})]
    values = {(row.cohort, row.step): row.reached_tenants for row in shown}
    table = sorted(shown, key=lambda row: (row.cohort, row.step_order))
    return {"chart": grouped_bars(cohorts, steps, values), "rows": table}


@router.get("")
def workspace(request: Request, session: SessionDep, caller: CallerDep) -> Response:
    principal = caller.principal
    tenant_id = request.query_params.get("tenant_id") or (
        None if principal.is_platform else principal.tenant_id
    )
    try:
        require_scopes(Scope.ops_read)(principal)
        checklist = None
        if tenant_id:
            tenant_id = own_tenant(
                session, principal, tenant_id[:64], platform_may=True
            )  # 404 if not its own
            base_url = str(request.base_url).rstrip("/")
            checklist = service.checklist(session, tenant_id=tenant_id, base_url=base_url)
        funnel = _funnel(session) if principal.is_platform else None
    except Problem as problem:
        return problem_page(request, problem, caller.console, caller=caller)
    return page(request, "onboarding.html", caller.console, caller=caller, checklist=checklist, funnel=funnel,
                tenant_id=tenant_id)  # fmt: skip
