"""Runs a write once per Idempotency-Key, in one transaction with the effect it protects.

Flow: look the key up (same hash: replay the stored status and body; other hash: 409
IDEMPOTENCY_KEY_REUSED); otherwise insert a claim row, run the operation, store its response on the claim
and commit, all in one transaction. A racing duplicate waits on SQLite's write lock (BEGIN IMMEDIATE) or on
the unique constraint's index entry (Postgres), then fails the insert, rolls back (nothing of its own was
written) and replays the winner's response. Only successful (2xx) responses are stored: an error leaves no
trace, so the client may retry with the same key once it has fixed the cause.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.core.database import utc_now
from api.core.errors import ProblemError
from api.idempotency.dependencies import IdempotentRequest
from api.idempotency.models import IdempotencyRecord
from api.tenants.dependencies import Principal
from settld.core import canonical_json

REPLAY_HEADER = "Idempotent-Replayed"
Operation = Callable[[], tuple[int, dict[str, Any]]]


def _json_response(status: int, body_text: str, *, replayed: bool) -> Response:
    headers = {REPLAY_HEADER: "true"} if replayed else {}
    return Response(content=body_text, status_code=status, media_type="application/json", headers=headers)


def _find(session: Session, principal: Principal, key: str) -> IdempotencyRecord | None:
    return session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.tenant_id == principal.tenant_id,
            IdempotencyRecord.key_id == principal.key_id,
            IdempotencyRecord.idempotency_key == key,
        )
    ).one_or_none()


def _replay(record: IdempotencyRecord, request: IdempotentRequest) -> Response:
    if record.request_hash != request.request_hash:
        raise ProblemError(
            409,
            "IDEMPOTENCY_KEY_REUSED",
            "This Idempotency-Key was used for a different request.",
            idempotency_key=record.idempotency_key,
        )
    return _json_response(record.status_code, record.response_body, replayed=True)


def run_write(
    session: Session, *, principal: Principal, request: IdempotentRequest, operation: Operation
) -> Response:
    """Execute `operation` (which writes through `session` without committing) and commit its effect."""
    if request.key is None:
        status, body = operation()
        session.commit()
        return _json_response(status, canonical_json(body), replayed=False)

    existing = _find(session, principal, request.key)
    if existing is not None:
        return _replay(existing, request)
    claim = IdempotencyRecord(
        tenant_id=principal.tenant_id,
        key_id=principal.key_id,
        idempotency_key=request.key,
        method=request.method,
        path=request.path,
        request_hash=request.request_hash,
        status_code=0,
        response_body="",
        request_id=principal.request_id,
        created_at=utc_now(),
    )
    session.add(claim)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        winner = _find(session, principal, request.key)
        if winner is None:  # the winner rolled back after we failed; let the client retry
            raise ProblemError(
                409, "IDEMPOTENCY_KEY_IN_USE", "A request with this key is in flight; retry."
            ) from None
        return _replay(winner, request)

    status, body = operation()
    body_text = canonical_json(body)
    claim.status_code, claim.response_body = status, body_text
    session.commit()
    return _json_response(status, body_text, replayed=False)
