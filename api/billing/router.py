"""`POST /v1/webhooks/stripe`: public (Stripe sends no API key); only a valid Stripe-Signature is trusted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from api.billing import webhook
from api.core.database import utc_now
from api.core.dependencies import get_database
from api.core.errors import problem_response

router = APIRouter(tags=["billing"])


class WebhookAccepted(BaseModel):
    ok: bool = True
    duplicate: bool
    ignored: bool
    event_id: str
    event_type: str
    tenant_id: str
    delivery_id: int


@router.post(
    "/v1/webhooks/stripe",
    response_model=WebhookAccepted,
    responses={400: {"description": "WEBHOOK_REJECTED with `reason`: " + ", ".join(webhook.REASON_KEYS)}},
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def stripe_webhook(
    request: Request,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> JSONResponse:
    """Record the delivery; store the event once per id (a repeat answers `duplicate: true`)."""
    body = await request.body()
    settings = request.app.state.settings
    database = get_database(request)

    def handle():
        for attempt in range(
            2
        ):  # a concurrent copy of the same event may win the insert: then it is a duplicate
            with database.session(write=True) as session:
                try:
                    outcome = webhook.receive(session, body=body, signature_header=stripe_signature,
                                              secret=settings.stripe_webhook_secret, now=utc_now(),
                                              tolerance=settings.stripe_webhook_tolerance)  # fmt: skip
                    session.commit()
                    return outcome
                except IntegrityError:
                    session.rollback()
                    if attempt:
                        raise
        raise AssertionError("unreachable")

    from starlette.concurrency import run_in_threadpool

    outcome = await run_in_threadpool(handle)
    if outcome.status == "rejected":
        return problem_response(request, 400, "WEBHOOK_REJECTED", outcome.message or outcome.reason,
                                reason=outcome.reason, delivery_id=outcome.delivery_id)  # fmt: skip
    accepted = WebhookAccepted(
        duplicate=outcome.status == "duplicate",
        ignored=outcome.status == "ignored",
        event_id=outcome.event_id,
        event_type=outcome.event_type,
        tenant_id=outcome.tenant_id,
        delivery_id=outcome.delivery_id,
    )
    return JSONResponse(accepted.model_dump())
