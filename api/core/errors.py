"""Problem-details errors (RFC 9457 shape) with a machine-readable `code`, and the handlers that emit them.

Every error the API returns looks like
`{"type", "title", "status", "code", "detail", "errors": [...], "request_id", ...extra}`.
Bad input is a 4xx; the catch-all handler turns only true bugs into a logged 500.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("api.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "AUTH_REQUIRED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_FAILED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


class ProblemError(Exception):
    """Raise anywhere below a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.errors = errors or []
        self.headers = headers
        self.extra = extra


def problem_body(
    status: int, code: str, detail: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:settld:problem:{code.lower().replace('_', '-')}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
        "errors": errors or [],
    }
    body.update(extra)
    return body


def problem_response(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    body = problem_body(status, code, detail, errors=errors, request_id=request_id, **extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _field_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(part) for part in item.get("loc", ())],
            "msg": str(item.get("msg", "")),
            "type": item.get("type"),
        }
        for item in error.errors()
    ]


async def _problem_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    return problem_response(
        request,
        error.status,
        error.code,
        error.detail,
        errors=error.errors,
        headers=error.headers,
        **error.extra,
    )


async def _validation_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return problem_response(
        request, 422, "VALIDATION_FAILED", "The request is invalid; see errors.", errors=_field_errors(error)
    )


async def _http_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = STATUS_CODES.get(error.status_code, f"HTTP_{error.status_code}")
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    return problem_response(request, error.status_code, code, detail, headers=getattr(error, "headers", None))


async def _database_unavailable_handler(request: Request, error: Exception) -> JSONResponse:
    # Lock timeouts and lost connections are operational conditions, not bugs: ask the client to retry.
    logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, error)
    return problem_response(
        request,
        503,
        "DATABASE_UNAVAILABLE",
        "The database is busy or unreachable; retry.",
        headers={"Retry-After": "1"},
    )


async def _unhandled_handler(request: Request, error: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    logger.exception("unhandled error on %s %s (request %s)", request.method, request.url.path, request_id)
    return problem_response(
        request, 500, "INTERNAL_ERROR", "An unexpected error occurred; it has been logged."
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _problem_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(OperationalError, _database_unavailable_handler)
    app.add_exception_handler(Exception, _unhandled_handler)
