"""Reads the `Idempotency-Key` (or `X-Idempotency-Key`) header and hashes the canonical request."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from api.core.errors import ProblemError
from settld.core import canonical_hash

IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class IdempotentRequest:
    key: str | None
    method: str
    path: str
    request_hash: str


def _refuse_constant(token: str) -> Any:
    raise ValueError(f"{token} has no canonical JSON form")


def _body_value(raw: bytes) -> Any:
    """The JSON body (canonicalised by the hash), or its text when it is not JSON (the route will reject it)."""
    if not raw:
        return None
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except ValueError:
        return {"$raw": raw.decode("utf-8", errors="replace")}


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
        raise ProblemError(400, "IDEMPOTENCY_KEY_INVALID", "Idempotency-Key and X-Idempotency-Key differ.")
    key = idempotency_key if idempotency_key is not None else x_idempotency_key
    if key is not None and not IDEMPOTENCY_KEY_PATTERN.match(key):
        raise ProblemError(
            400,
            "IDEMPOTENCY_KEY_INVALID",
            "Idempotency-Key must be 1-255 printable ASCII characters, no spaces.",
        )
    body = _body_value(await request.body())
    path = request.url.path
    request_hash = canonical_hash({"method": request.method, "path": path, "body": body})
    return IdempotentRequest(key=key, method=request.method, path=path, request_hash=request_hash)


IdempotencyDep = Annotated[IdempotentRequest, Depends(idempotent_request)]
