"""`POST /v1/webhooks/stripe`: public (Stripe sends no API key); only a valid Stripe-Signature is trusted.

It is the one write route without `@idempotent`: Stripe sends no Idempotency-Key, and the webhook is
idempotent by the event id instead (an event is stored once; a repeat is recorded as `duplicate`). Every
delivery is recorded, a refused one too: the refusal is answered (not raised), so the request's commit
point keeps the delivery row.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from api.billing import plan_routes, provider_routes, webhook
from api.billing.models import DeliveryStatus
from api.billing.problems import DeliveryRejected
from api.core.database import utc_now
from api.core.dependencies import WriteSessionDep
from api.core.errors import problem_response, problem_responses

router = APIRouter(tags=["billing"])
RESPONSES = problem_responses(DeliveryRejected)
JUDGED = [key for key in webhook.REASON_KEYS if key not in webhook.RETIRED_REASON_KEYS]
RESPONSES[400]["description"] += f" Reason keys, in the order judged: {', '.join(JUDGED)}."


class WebhookAccepted(BaseModel):
    ok: bool = True
    duplicate: bool
    ignored: bool
    event_id: str
    event_type: str
    tenant_id: str | None  # null: the platform's (payouts, balance) or not attributed yet
    attribution: str  # tenant | platform | unattributed (parked until a link names its tenant)
    delivery_id: int


async def raw_body(request: Request) -> bytes:
    """The body as sent: the signature covers these exact bytes."""
    return await request.body()


@router.post(
    "/v1/webhooks/stripe",
    response_model=WebhookAccepted,
    responses=RESPONSES,
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
def stripe_webhook(
    request: Request,
    session: WriteSessionDep,
    body: Annotated[bytes, Depends(raw_body)],
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> JSONResponse:
    """Record the delivery; store the event once per id (a repeat answers `duplicate: true`)."""
    settings = request.app.state.settings
    for attempt in range(2):  # a concurrent copy of the same event may win the insert: then it is a duplicate
        try:
            outcome = webhook.receive(session, body=body, signature_header=stripe_signature,
                                      secret=settings.stripe_webhook_secret, now=utc_now(),
                                      tolerance=settings.stripe_webhook_tolerance)  # fmt: skip
            break
        except IntegrityError:
            session.rollback()  # only this delivery's rows: try again, as a duplicate
            if attempt:
                raise
    if outcome.status == DeliveryStatus.rejected:
        rejected = DeliveryRejected(outcome.message or outcome.reason, reason=outcome.reason,
                                    delivery_id=outcome.delivery_id)  # fmt: skip
        return problem_response(request, rejected)
    accepted = WebhookAccepted(
        duplicate=outcome.status == DeliveryStatus.duplicate,
        ignored=outcome.status == DeliveryStatus.ignored,
        event_id=outcome.event_id,
        event_type=outcome.event_type,
        tenant_id=outcome.tenant_id,
        attribution=outcome.attribution,
        delivery_id=outcome.delivery_id,
    )
    return JSONResponse(accepted.model_dump())


# The domain's routers, mounted in this order by api.main: the webhook, the plan, subscription and summary
# routes, then checkout and the customer portal.
routers = (router, plan_routes.router, provider_routes.router)
