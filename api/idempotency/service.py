"""Runs a write once per Idempotency-Key, in one transaction with the effect it protects.

Flow: look the key up (same hash: replay the stored status and body; other hash: 409
IDEMPOTENCY_KEY_REUSED); otherwise insert a claim row; the route runs; its response is stored on the claim
and the request's commit point commits both. A racing duplicate waits on SQLite's write lock (BEGIN
IMMEDIATE) or on the unique constraint's index entry (Postgres), then fails the insert, rolls back (nothing
of its own was written) and replays the winner's response. Only successful (2xx) responses are stored: an
error rolls the claim back with the rest, so the client may retry with the same key once it has fixed it.

A stored response is kept for the retention (`idempotency_retention_hours`, 24 h as Stripe keeps keys):
past it, the key is forgotten and the same key is a new request (its old record is deleted in the same
transaction as the new claim). `purge_expired` deletes what has expired (`settld api purge`, and the
daily Dagster schedule `purge_idempotency_records`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import Response
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.idempotency.models import IdempotencyRecord
from api.idempotency.problems import IdempotencyKeyInUse, IdempotencyKeyReused
from api.tenants.dependencies import Principal
from settld.core import canonical_json

REPLAY_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class IdempotentRequest:
    key: str | None
    method: str
    path: str
    request_hash: str


@dataclass(frozen=True)
class IdempotencyClaim:
    """The key's stored response to replay, or the claim row (None without a key) to store the answer on."""

    record: IdempotencyRecord | None = None
    replay: Response | None = None

    def respond(self, status: int, body: Any) -> Response:
        body_text = canonical_json(body)
        if self.record is not None:
            self.record.status_code, self.record.response_body = status, body_text
        return _json_response(status, body_text, replayed=False)


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


def _replay(record: IdempotencyRecord, request: IdempotentRequest) -> IdempotencyClaim:
    if record.request_hash != request.request_hash:
        raise IdempotencyKeyReused(idempotency_key=record.idempotency_key)
    return IdempotencyClaim(replay=_json_response(record.status_code, record.response_body, replayed=True))


def claim_key(
    session: Session, *, principal: Principal, request: IdempotentRequest, now: datetime, retention: timedelta
) -> IdempotencyClaim:
    """Replay the stored response of `request.key` (stored after `now - retention`), or add a claim for it
    to the session's transaction."""
    if request.key is None:
        return IdempotencyClaim()
    existing = _find(session, principal, request.key)
    if existing is not None and existing.created_at > now - retention:
        return _replay(existing, request)
    if existing is not None:  # expired: forgotten, so this is a new request
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == existing.id))
        session.expunge(existing)
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
        created_at=now,
    )
    session.add(claim)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()  # only the claim: the route has not run
        winner = _find(session, principal, request.key)
        if winner is None:  # the winner rolled back after we failed; let the client retry
            raise IdempotencyKeyInUse() from None
        return _replay(winner, request)
    return IdempotencyClaim(record=claim)


def purge_expired(session: Session, *, now: datetime, retention: timedelta) -> int:
    """Delete the records stored at or before `now - retention` (no longer replayed); returns how many."""
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= now - retention))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
