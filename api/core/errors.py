"""Problem-details errors (RFC 9457 shape): one class per code, the handlers that emit them, and the OpenAPI
`responses=` of a route built from the classes it may raise.

Every error the API returns looks like
`{"type", "title", "status", "code", "detail", "errors": [...], "request_id", ...extra}`.
A code exists only as a `Problem` subclass (status, code and what it means in one place), so the codes a
route documents and the codes the code raises cannot drift: tests/api/test_api_patterns.py compares them.
Bad input is a 4xx; the catch-all handler turns only true bugs into a logged 500.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("api.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Starlette's own HTTP errors (an unknown path, a wrong method): raised by the framework, never by our code.
FRAMEWORK_CODES = {
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


class Problem(Exception):
    """Raise a subclass anywhere below a route to answer with its problem document.

    A subclass names one code: `status`, `code`, `title` (what the code means, shown in the OpenAPI
    document) and `members` (the extra members its documents carry, e.g. `current_revision`).
    """

    status: ClassVar[int] = 500
    code: ClassVar[str] = ""
    title: ClassVar[str] = ""
    members: ClassVar[tuple[str, ...]] = ()
    default_headers: ClassVar[dict[str, str] | None] = None
    registry: ClassVar[dict[str, type[Problem]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.code or not cls.title:
            raise TypeError(f"{cls.__name__} must set `code` and `title`")
        if cls.registry.setdefault(cls.code, cls) is not cls:
            raise TypeError(f"problem code {cls.code} is defined twice ({cls.registry[cls.code].__name__})")

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.detail = detail or self.title
        super().__init__(f"{self.code}: {self.detail}")
        self.errors = errors or []
        self.headers = headers if headers is not None else self.default_headers
        self.extra = extra


class ValidationFailed(Problem):
    status, code, title = 422, "VALIDATION_FAILED", "The request is invalid; `errors` names each field."


class DatabaseUnavailable(Problem):
    status, code, title = 503, "DATABASE_UNAVAILABLE", "The database is busy or unreachable; retry."
    default_headers = {"Retry-After": "1"}


class InternalError(Problem):
    status, code, title = 500, "INTERNAL_ERROR", "An unexpected error occurred; it has been logged."


# Every route may answer these, whatever it does.
COMMON_PROBLEMS: tuple[type[Problem], ...] = (ValidationFailed, InternalError, DatabaseUnavailable)


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


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    """The problem document of `problem`, for a route that answers with it instead of raising it (a raise
    rolls the request's transaction back; the Stripe webhook keeps its rejected delivery)."""
    return _response(request, problem.status, problem.code, problem.detail, errors=problem.errors,
                     headers=problem.headers, **problem.extra)  # fmt: skip


def _response(
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


def problem_responses(*problems: type[Problem]) -> dict[int | str, dict[str, Any]]:
    """A route's `responses=`: one entry per status, listing each code (with an example) the route may
    answer; the common ones (validation, database, internal error) are always included."""
    by_status: dict[int, list[type[Problem]]] = {}
    for problem in dict.fromkeys((*problems, *COMMON_PROBLEMS)):
        by_status.setdefault(problem.status, []).append(problem)
    responses: dict[int | str, dict[str, Any]] = {}
    for status, classes in sorted(by_status.items()):
        examples = {
            cls.code: {
                "summary": cls.title,
                "value": problem_body(status, cls.code, cls.title, **dict.fromkeys(cls.members, "...")),
            }
            for cls in classes
        }
        responses[status] = {
            "description": "; ".join(f"`{cls.code}`: {cls.title}" for cls in classes),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA, "examples": examples}},
        }
    return responses


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "code", "detail", "errors"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string", "description": "Machine-readable; one per problem class."},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
        "request_id": {"type": ["string", "null"]},
    },
    "additionalProperties": True,
}


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
    assert isinstance(error, Problem)
    return problem_response(request, error)


async def _validation_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return problem_response(request, ValidationFailed(errors=_field_errors(error)))


async def _http_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = FRAMEWORK_CODES.get(error.status_code, f"HTTP_{error.status_code}")
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    return _response(request, error.status_code, code, detail, headers=getattr(error, "headers", None))


async def _database_unavailable_handler(request: Request, error: Exception) -> JSONResponse:
    # Lock timeouts and lost connections are operational conditions, not bugs: ask the client to retry.
    logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, error)
    return problem_response(request, DatabaseUnavailable())


async def _unhandled_handler(request: Request, error: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    logger.exception("unhandled error on %s %s (request %s)", request.method, request.url.path, request_id)
    return problem_response(request, InternalError())


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _problem_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(OperationalError, _database_unavailable_handler)
    app.add_exception_handler(Exception, _unhandled_handler)
