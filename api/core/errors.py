"""Problem-details errors (RFC 9457 shape): one class per code, the handlers that emit them, and the OpenAPI
`responses=` of a route built from the classes it may raise.

Every error the API returns looks like
`{"type", "title", "status", "code", "detail", "errors": [...], "request_id", ...extra}`.
A code exists only as a `Problem` subclass (status, code and what it means in one place), so the codes a
route documents and the codes the code raises cannot drift: tests/api/test_api_patterns.py compares them.
Bad input is a 4xx; only true bugs are a 500, answered by the last-resort middleware
(api/core/middleware.py), logged, and with `Connection: close`. A problem document is written with ASCII
escapes, so whatever text a client sent (a lone surrogate in a key it names) cannot make it unwritable.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
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


class BodyTooLarge(Problem):
    status, code, title = 413, "BODY_TOO_LARGE", "The body is larger than the API accepts (`max_body_bytes`)."
    members = ("max_body_bytes",)
    default_headers = {"Connection": "close"}  # the rest of the body is not read


class JsonTooDeep(Problem):
    status, code = 400, "JSON_TOO_DEEP"
    title = "The JSON body nests arrays and objects deeper than the API accepts (`max_json_depth`)."
    members = ("max_json_depth",)


class DatabaseUnavailable(Problem):
    status, code, title = 503, "DATABASE_UNAVAILABLE", "The database is busy or unreachable; retry."
    default_headers = {"Retry-After": "1"}


class InternalError(Problem):
    status, code, title = 500, "INTERNAL_ERROR", "An unexpected error occurred; it has been logged."
    default_headers = {"Connection": "close"}  # whatever state the request left, the next one starts afresh


# Every route may answer these, whatever it does (the limits apply before any route runs).
COMMON_PROBLEMS: tuple[type[Problem], ...] = (
    ValidationFailed, BodyTooLarge, JsonTooDeep, InternalError, DatabaseUnavailable
)  # fmt: skip


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


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


def problem_response(request: Request, problem: Problem) -> ProblemResponse:
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
) -> ProblemResponse:
    request_id = getattr(request.state, "request_id", None)
    body = problem_body(status, code, detail, errors=errors, request_id=request_id, **extra)
    return ProblemResponse(body, status_code=status, headers=headers)


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


BODY_NOT_JSON = {"loc": ["body"], "msg": "The body is not JSON: not UTF-8, or a number no parser holds.",
                 "type": "json_invalid"}  # fmt: skip


def _field_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(part) for part in item.get("loc", ())],
            "msg": str(item.get("msg", "")),
            "type": item.get("type"),
        }
        for item in error.errors()
    ]


async def _problem_handler(request: Request, error: Exception) -> ProblemResponse:
    assert isinstance(error, Problem)
    return problem_response(request, error)


async def _validation_handler(request: Request, error: Exception) -> ProblemResponse:
    assert isinstance(error, RequestValidationError)
    return problem_response(request, ValidationFailed(errors=_field_errors(error)))


async def _http_handler(request: Request, error: Exception) -> ProblemResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400 and isinstance(error.__cause__, ValueError):
        # FastAPI's bare 400 for a body model's JSON that json.loads raised on other than by a syntax error
        # (not UTF-8, an integer of more digits than Python converts): the same refusal as a syntax error.
        return problem_response(request, ValidationFailed(errors=[BODY_NOT_JSON]))
    code = FRAMEWORK_CODES.get(error.status_code, f"HTTP_{error.status_code}")
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    return _response(request, error.status_code, code, detail, headers=getattr(error, "headers", None))


# SQLSTATE classes and codes that say the database cannot serve now, not that the request is wrong:
# connection exceptions (08), insufficient resources (53: too many connections, disk full), operator
# intervention (57: shutting down, statement cancelled by statement_timeout) and a read-only transaction
# (25006: a standby, default_transaction_read_only). A constraint violation or a syntax error stays a bug.
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57"})
UNAVAILABLE_SQLSTATES = frozenset({"25006"})


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database is refused, frozen, exhausted or read-only (a 503), not a bug."""
    if isinstance(error, OperationalError | PoolTimeout | DisconnectionError):
        return True  # lost or refused connection, lock or statement timeout, SQLite busy or read-only
    if isinstance(error, DBAPIError):
        sqlstate = getattr(error.orig, "sqlstate", None) or ""
        return (
            error.connection_invalidated
            or sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES
            or (sqlstate in UNAVAILABLE_SQLSTATES)
        )
    return False


def first_line(error: BaseException) -> str:
    """The first line of an error's message (drivers append SQL and hints on further lines)."""
    text = str(getattr(error, "orig", None) or error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"


def database_unavailable_problem(request: Request) -> DatabaseUnavailable:
    settings = getattr(request.app.state, "settings", None)
    seconds = getattr(settings, "retry_after_seconds", 1)
    return DatabaseUnavailable(headers={"Retry-After": str(seconds)})


async def _database_error_handler(request: Request, error: Exception) -> ProblemResponse:
    # Refused, frozen, exhausted or read-only: an operational condition, not a bug. One line, no traceback
    # (an outage under load would otherwise write one per request); the client is asked to retry.
    if not database_unavailable(error):
        raise error  # a bug: the last-resort middleware logs it and answers 500
    logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, first_line(error))
    return problem_response(request, database_unavailable_problem(request))


def _with_common_problems(responses: dict[str, Any]) -> dict[str, Any]:
    """An operation's documented `responses` with the common problems added where missing (a route that
    documents nothing, like `/healthz`, answers the limits' problems too), in status order."""
    for status, common in problem_responses().items():
        answer = responses.setdefault(str(status), {"description": ""})
        content = answer.setdefault("content", {}).setdefault(PROBLEM_MEDIA_TYPE, {"schema": PROBLEM_SCHEMA})
        examples = content.setdefault("examples", {})
        for code, example in common["content"][PROBLEM_MEDIA_TYPE]["examples"].items():
            if code not in examples:
                examples[code] = example
                described = f"`{code}`: {example['summary']}"
                answer["description"] = (
                    f"{answer['description']}; {described}" if answer["description"] else described
                )
    return dict(sorted(responses.items()))


def _document_common_problems(app: FastAPI) -> None:
    build = app.openapi  # FastAPI's: builds the document once and keeps it in app.openapi_schema

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            for item in build().get("paths", {}).values():
                for operation in item.values():
                    operation["responses"] = _with_common_problems(operation.get("responses", {}))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    _document_common_problems(app)
    app.add_exception_handler(Problem, _problem_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    for database_error in (DBAPIError, PoolTimeout, DisconnectionError):
        app.add_exception_handler(database_error, _database_error_handler)
    # Anything else is a bug: UnhandledErrorMiddleware (api/core/middleware.py) answers it.
