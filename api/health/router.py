"""`GET /healthz` (liveness: the process answers) and `GET /readyz` (readiness: the database answers and is
at this code's schema), both public.

An orchestrator restarts a process whose liveness fails and stops routing traffic to one whose readiness
fails; so liveness never touches the database (a database outage must not make every API process restart
in a loop), and readiness is bounded by the database timeouts (api/core/deadlines.py) and logs one line
when it fails, never a traceback per probe.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from pydantic import BaseModel

from api.core.dependencies import get_database
from api.core.errors import (
    Problem,
    database_unavailable,
    database_unavailable_problem,
    first_line,
    problem_responses,
)
from api.core.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])
logger = logging.getLogger("api.health")


class Liveness(BaseModel):
    ok: bool


class Readiness(BaseModel):
    ok: bool
    database: str
    revision: str


class SchemaNotAtHead(Problem):
    status, code = 503, "API_SCHEMA_OUTDATED"
    title = "The API database is not at this code's migration head: run `settld api migrate`."
    members = ("current_revision", "head_revision")
    default_headers = {"Retry-After": "30"}


@router.get("/healthz", response_model=Liveness)
def healthz() -> Liveness:
    """Liveness: the process serves requests. It never touches the database (see `/readyz`)."""
    return Liveness(ok=True)


@router.get("/readyz", response_model=Readiness, responses=problem_responses(SchemaNotAtHead))
def readyz(request: Request) -> Readiness:
    """Readiness: the database answers within the API's timeouts and is at this code's migration head;
    else 503 `DATABASE_UNAVAILABLE` or `API_SCHEMA_OUTDATED`, with `Retry-After`."""
    try:
        current = current_revision(get_database(request).engine)
    except Exception as error:
        if not database_unavailable(error):
            raise
        logger.warning("readiness: database unavailable: %s", first_line(error))
        raise database_unavailable_problem(request) from None
    head = head_revision()
    if current != head:
        logger.warning("readiness: API database at revision %s, this code needs %s", current, head)
        raise SchemaNotAtHead(current_revision=current, head_revision=head)
    return Readiness(ok=True, database="ok", revision=head)
