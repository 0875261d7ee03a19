"""The billing provider (Stripe) behind checkout and the customer portal: the official SDK with its own
retries, behind a circuit breaker (pybreaker), with every failure mapped to a problem code.

- No secret key: stub mode (the reference's), no request leaves: `live` is False and callers build a
  stub session themselves.
- A call is retried by the SDK (`stripe_max_network_retries`, its backoff) on network errors, 409, 429 and
  5xx. What still fails is 502 BILLING_PROVIDER_UPSTREAM_ERROR with its `category`: network_error,
  rate_limited, upstream_unavailable (these count towards the breaker) or upstream_rejected (a 4xx the
  provider will answer again: it does not).
- After `billing_circuit_fail_max` consecutive counted failures the breaker opens: for
  `billing_circuit_reset_seconds` every call is 503 BILLING_PROVIDER_CIRCUIT_OPEN at once (Retry-After),
  then one trial call decides (closed again on success, open again on failure). The breaker is the app
  process's: each worker learns on its own, which only delays its opening.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import pybreaker
import stripe

from api.billing.problems import ProviderCircuitOpen, ProviderUpstreamError
from api.core.settings import ApiSettings

T = TypeVar("T")
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})
HTTP_TIMEOUT_SECONDS = 10.0


def category(error: stripe.StripeError) -> str:
    if isinstance(error, stripe.APIConnectionError):
        return "network_error"
    if isinstance(error, stripe.RateLimitError) or error.http_status == 429:
        return "rate_limited"
    status = error.http_status or 0
    return "upstream_unavailable" if status >= 500 or status in RETRYABLE_STATUSES else "upstream_rejected"


def _not_counted(error: BaseException) -> bool:
    """The breaker counts only failures a retry could cure; a refusal of the request itself is not one."""
    return isinstance(error, stripe.StripeError) and category(error) == "upstream_rejected"


class BillingProvider:
    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.client = None
        if settings.stripe_api_key:
            base = {"api": settings.stripe_api_base} if settings.stripe_api_base else None
            self.client = stripe.StripeClient(
                settings.stripe_api_key, base_addresses=base, max_network_retries=settings.stripe_max_network_retries,
                http_client=stripe.HTTPXClient(timeout=HTTP_TIMEOUT_SECONDS, allow_sync_methods=True),
            )  # fmt: skip
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=settings.billing_circuit_fail_max, reset_timeout=settings.billing_circuit_reset_seconds,
            exclude=[_not_counted], throw_new_error_on_trip=False, name="stripe",
        )  # fmt: skip

    @property
    def live(self) -> bool:
        return self.client is not None

    def call(self, request: Callable[[stripe.StripeClient], T]) -> T:
        """Run one SDK request through the breaker; failures become the problems above."""
        assert self.client is not None, "stub mode makes no request"
        client = self.client
        try:
            return self.breaker.call(request, client)
        except pybreaker.CircuitBreakerError:
            seconds = math.ceil(self.settings.billing_circuit_reset_seconds)
            raise ProviderCircuitOpen(
                f"Stripe failed {self.settings.billing_circuit_fail_max} times in a row; calls are paused.",
                retry_after_seconds=seconds, headers={"Retry-After": str(seconds)},
            ) from None  # fmt: skip
        except stripe.StripeError as error:
            raise ProviderUpstreamError(
                f"Stripe: {error.user_message or type(error).__name__}",
                category=category(error), provider_status=error.http_status,
            ) from None  # fmt: skip


def no_such_customer(error: Any) -> bool:
    return isinstance(error, stripe.InvalidRequestError) and error.code == "resource_missing" and (
        error.param == "customer")  # fmt: skip
