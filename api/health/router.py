"""`GET /healthz`: public liveness and database check."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from api.core.dependencies import get_database

router = APIRouter(tags=["health"])
logger = logging.getLogger("api.health")


class Health(BaseModel):
    ok: bool
    database: str


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(request: Request) -> JSONResponse:
    try:
        with get_database(request).session() as session:
            session.execute(text("SELECT 1"))
    except Exception:  # a health check reports the failure rather than raising it
        logger.exception("database health check failed")
        return JSONResponse({"ok": False, "database": "error"}, status_code=503)
    return JSONResponse({"ok": True, "database": "ok"})
