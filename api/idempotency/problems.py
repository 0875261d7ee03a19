"""The problem codes of Idempotency-Key handling (one class each: api/core/errors.py)."""

from __future__ import annotations

from api.core.errors import Problem


class IdempotencyKeyInvalid(Problem):
    status, code = 400, "IDEMPOTENCY_KEY_INVALID"
    title = "Idempotency-Key must be 1-255 printable ASCII characters and agree with X-Idempotency-Key."


class IdempotencyKeyReused(Problem):
    status, code, title = (
        409,
        "IDEMPOTENCY_KEY_REUSED",
        "This Idempotency-Key was used for a different request.",
    )
    members = ("idempotency_key",)


class IdempotencyKeyInUse(Problem):
    status, code, title = 409, "IDEMPOTENCY_KEY_IN_USE", "A request with this key is in flight; retry."


IDEMPOTENCY_PROBLEMS = (IdempotencyKeyInvalid, IdempotencyKeyReused, IdempotencyKeyInUse)
