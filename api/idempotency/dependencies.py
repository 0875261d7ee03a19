"""`@idempotent`, the decorator every write route takes, and the dependencies it injects.

    @router.post("/triage", response_model=TriageUpsertResponse, responses=problem_responses(...))
    @idempotent
    def post_triage(body: TriageUpsert, session: WriteSessionDep, principal: FinanceWriteDep) -> ...:
        return TriageUpsertResponse(...)  # the route only writes and answers: no commit, no closure

The decorator adds the `Idempotency-Key` (or `X-Idempotency-Key`) dependency to the route: it parses the
body with the guarded parse (api/core/request_json.py: a body that is not JSON, or holds what cannot be
hashed or stored, is a 4xx here, before the route validates it), hashes the canonical request, and either finds the key's stored response (replayed as is, without running the
route) or claims the key. The route's answer is stored on the claim, and the request's commit point
(api/core/dependencies.py) commits claim and effect together. tests/api/test_api_patterns.py checks that
every non-GET route takes it (the Stripe webhook is idempotent by event id instead).
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request, Response
from fastapi.encoders import jsonable_encoder

from api.core.dependencies import WriteSessionDep
from api.core.errors import ValidationFailed
from api.core.request_json import load_json, text_refusal
from api.idempotency.models import IdempotencyRecord
from api.idempotency.problems import IdempotencyKeyInvalid
from api.idempotency.service import IdempotencyClaim, IdempotentRequest, claim_key
from api.tenants.dependencies import TenantDep
from settld.core import canonical_hash

IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
CLAIM_PARAMETER = "idempotency_claim"
MAX_PATH_LENGTH = IdempotencyRecord.__table__.c.path.type.length
PATH_INVALID = {
    "loc": ["path"],
    "msg": "No route has this path (too long, or NUL in it).",
    "type": "path_invalid",
}
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


async def idempotent_request(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Replays the stored response for the same key and body; 409 for another body.",
        ),
    ] = None,
    x_idempotency_key: Annotated[
        str | None, Header(alias="X-Idempotency-Key", description="Alias of Idempotency-Key.")
    ] = None,
) -> IdempotentRequest:
    if idempotency_key is not None and x_idempotency_key is not None and idempotency_key != x_idempotency_key:
        raise IdempotencyKeyInvalid("Idempotency-Key and X-Idempotency-Key differ.")
    key = idempotency_key if idempotency_key is not None else x_idempotency_key
    if key is not None and not IDEMPOTENCY_KEY_PATTERN.match(key):
        raise IdempotencyKeyInvalid("Idempotency-Key must be 1-255 printable ASCII characters, no spaces.")
    path = request.url.path
    if len(path) > MAX_PATH_LENGTH or text_refusal(path):  # the claim stores it before the route checks it
        raise ValidationFailed(errors=[PATH_INVALID])
    raw = await request.body()
    body = load_json(raw, request.app.state.settings.json_limits) if raw else None
    request_hash = canonical_hash({"method": request.method, "path": path, "body": body})
    return IdempotentRequest(key=key, method=request.method, path=path, request_hash=request_hash)


IdempotentRequestDep = Annotated[IdempotentRequest, Depends(idempotent_request)]


def claim_idempotency_key(
    http: Request, session: WriteSessionDep, principal: TenantDep, request: IdempotentRequestDep
) -> IdempotencyClaim:
    """Replay the key's stored response, or claim the key in the request's transaction."""
    retention = http.app.state.settings.idempotency_retention
    return claim_key(
        session, principal=principal, request=request, now=http.app.state.clock(), retention=retention
    )


IdempotencyDep = Annotated[IdempotencyClaim, Depends(claim_idempotency_key)]


def idempotent(endpoint: Endpoint | None = None, *, status_code: int = 200) -> Any:
    """Make a write route idempotent (see module docstring); its 2xx answer is `status_code`."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        if inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"{endpoint.__name__}: a write route is sync (it runs in the threadpool)")
        signature = inspect.signature(endpoint, eval_str=True)
        claim = inspect.Parameter(CLAIM_PARAMETER, inspect.Parameter.KEYWORD_ONLY, annotation=IdempotencyDep)

        @functools.wraps(endpoint)
        def route(*args: Any, **kwargs: Any) -> Response:
            idempotency: IdempotencyClaim = kwargs.pop(CLAIM_PARAMETER)
            if idempotency.replay is not None:
                return idempotency.replay
            return idempotency.respond(status_code, jsonable_encoder(endpoint(*args, **kwargs)))

        route.__signature__ = signature.replace(parameters=[*signature.parameters.values(), claim])  # type: ignore[attr-defined]
        return route  # type: ignore[return-value]

    return decorate(endpoint) if endpoint is not None else decorate
