"""Where an over-SLA alert goes: a log line (the default) or an HTTP webhook, retried with backoff.

The webhook receives the alert as JSON (`POST`, `Content-Type: application/json`); any 2xx is delivered,
a 429, a 5xx or a connection error is retried (`max_attempts`, backoff doubling from `backoff_seconds`),
any other status fails at once (a receiver that refuses the alert will not accept it later)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    attempts: int
    detail: str


def log_sink(logger: logging.Logger | Any) -> Callable[[dict[str, Any]], Delivery]:
    def send(payload: dict[str, Any]) -> Delivery:
        logger.warning("dispute_case_over_sla %s", json.dumps(payload, sort_keys=True))
        return Delivery(True, 1, "logged")

    return send


def webhook_sink(url: str, *, max_attempts: int = 4, backoff_seconds: float = 0.5, timeout: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep) -> Callable[[dict[str, Any]], Delivery]:  # fmt: skip
    def send(payload: dict[str, Any]) -> Delivery:
        detail = ""
        for attempt in range(1, max_attempts + 1):
            try:
                answer = httpx.post(
                    url, json=payload, timeout=timeout, headers={"Idempotency-Key": payload["alert_id"]}
                )
            except httpx.HTTPError as error:
                detail = f"{type(error).__name__}: {error}"
            else:
                if answer.is_success:
                    return Delivery(True, attempt, str(answer.status_code))
                detail = f"HTTP {answer.status_code}"
                if answer.status_code not in RETRYABLE:
                    return Delivery(False, attempt, detail)
            if attempt < max_attempts:
                sleep(backoff_seconds * 2 ** (attempt - 1))
        return Delivery(False, max_attempts, detail)

    return send
